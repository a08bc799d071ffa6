"""The pipeline's resources, each configured from its environment variables when a run starts."""

from __future__ import annotations

import dagster as dg

from dagstributor_shared.postgres import PostgresResource

AT_PGSQL_PREFIX = "AT_PGSQL"


def pipeline_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource the steps use; a job initialises only those its ops require."""
    return {
        "postgres": PostgresResource(env_prefix=AT_PGSQL_PREFIX),
    }
