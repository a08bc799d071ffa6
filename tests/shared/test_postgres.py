"""The PostgreSQL resource: configured server, prefixes, validation, and the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dagstributor_shared.postgres import (
    DatabaseSettingsError,
    PostgresResource,
    resolve_settings,
)
from tests.support.database import PgTestServer, stop_embedded

IN_POD = {"KUBERNETES_SERVICE_HOST": "10.43.0.1"}


def test_configured_host_wins_and_reads_every_variable_of_the_prefix() -> None:
    settings = resolve_settings(
        "WST_PGSQL",
        {},
        {
            "WST_PGSQL_HOST": "db.internal",
            "WST_PGSQL_PORT": "6543",
            "WST_PGSQL_DATABASE": "media",
            "WST_PGSQL_USERNAME": "wst",
            "WST_PGSQL_PASSWORD": "s3cret",
        },
    )
    assert (settings.host, settings.port, settings.database, settings.username) == (
        "db.internal",
        6543,
        "media",
        "wst",
    )
    assert settings.password == "s3cret"
    assert not settings.embedded
    assert "s3cret" not in settings.describe()


def test_pipeline_prefix_accepts_the_endpoint_spelling_and_schema() -> None:
    settings = resolve_settings(
        "AT_PGSQL",
        {},
        {
            "AT_PGSQL_ENDPOINT": "pg",
            "AT_PGSQL_DATABASE": "atp_db",
            "AT_PGSQL_USERNAME": "at",
            "AT_PGSQL_SCHEMA": "atp_test",
        },
    )
    assert (settings.host, settings.port, settings.schema) == ("pg", 5432, "atp_test")


def test_one_error_lists_every_invalid_variable_and_never_a_value() -> None:
    with pytest.raises(DatabaseSettingsError) as caught:
        resolve_settings(
            "AT_PGSQL",
            {},
            {"AT_PGSQL_HOST": "pg", "AT_PGSQL_PORT": "lots", "AT_PGSQL_PASSWORD": "pw"},
        )
    message = str(caught.value)
    for name in ("AT_PGSQL_PORT", "AT_PGSQL_DATABASE", "AT_PGSQL_USERNAME"):
        assert name in message
    assert "pw" not in message.replace("AT_PGSQL_PASSWORD", "")


def test_inside_kubernetes_a_missing_host_is_an_error_not_an_embedded_server() -> None:
    with pytest.raises(DatabaseSettingsError, match="WST_PGSQL_HOST"):
        resolve_settings("WST_PGSQL", {}, IN_POD)


def test_explicit_fields_override_the_environment() -> None:
    settings = resolve_settings(
        "WST_PGSQL",
        {"host": "override", "database": "d", "username": "u"},
        {"WST_PGSQL_HOST": "ignored", "WST_PGSQL_DATABASE": "ignored", "WST_PGSQL_USERNAME": "x"},
    )
    assert (settings.host, settings.database, settings.username) == ("override", "d", "u")


def test_no_host_on_a_workstation_reads_settings_without_starting_and_connecting_starts_the_embedded_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg2

    pgdata = tmp_path / "pgdata"
    monkeypatch.setenv("DAGSTRIBUTOR_PGDATA", str(pgdata))
    for variable in ("WST_PGSQL_HOST", "WST_PGSQL_ENDPOINT", "AT_PGSQL_HOST", "AT_PGSQL_ENDPOINT"):
        monkeypatch.delenv(variable, raising=False)
    try:
        settings = PostgresResource(env_prefix="WST_PGSQL").settings()
        assert settings.embedded
        assert not pgdata.exists(), "reading settings must not start a server"
        connection = psycopg2.connect(**settings.connect_kwargs(connect_timeout=5))
        assert (pgdata / "PG_VERSION").is_file()
        # The other location's prefix finds the same running server.
        again = resolve_settings("AT_PGSQL", {})
        assert again.connect_kwargs(5)["host"] == connection.get_dsn_parameters()["host"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('data_directory')")
            row = cursor.fetchone()
        connection.close()
        assert row is not None and Path(row[0]).resolve() == pgdata.resolve()
    finally:
        assert stop_embedded(pgdata)
    assert not (pgdata / "postmaster.pid").exists()


def test_resource_connects_to_a_real_server(pg_server: PgTestServer, fresh_database: str) -> None:
    resource = pg_server.resource(fresh_database)
    with resource.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone() == (fresh_database,)


def test_inside_kubernetes_the_error_names_exactly_the_missing_and_invalid_variables() -> None:
    environ = {
        **IN_POD,
        "WST_PGSQL_DATABASE": "media",
        "WST_PGSQL_USERNAME": "wst",
        "WST_PGSQL_PORT": "lots",
    }
    with pytest.raises(DatabaseSettingsError) as caught:
        resolve_settings("WST_PGSQL", {}, environ)
    message = str(caught.value)
    assert "WST_PGSQL_HOST" in message
    assert "WST_PGSQL_PASSWORD" in message
    assert "WST_PGSQL_PORT is not a port number" in message
    assert "WST_PGSQL_DATABASE" not in message  # set: not reported as missing
    assert "WST_PGSQL_USERNAME" not in message


@pytest.mark.parametrize("render", [repr, str])
def test_the_password_is_never_in_the_repr_of_the_resource_or_its_settings(render: Any) -> None:
    resource = PostgresResource(
        env_prefix="TEST_PGSQL", host="db", database="d", username="u", password="s3cret"
    )
    assert "s3cret" not in render(resource)
    settings = resource.settings()
    assert settings.password == "s3cret"
    assert "s3cret" not in render(settings)
    assert "s3cret" not in settings.describe()
