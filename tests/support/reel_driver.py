"""A fake reel-driver on a FakeHttpServer: predict_batch and predict, answered from a table."""

from __future__ import annotations

from typing import Any

from tests.support.http import FakeHttpServer, Reply, Request

PREFIX = "reel-driver"
BATCH_PATH = f"/{PREFIX}/api/predict_batch"
ITEM_PATH = f"/{PREFIX}/api/predict"


class FakeReelDriver:
    """`probabilities[imdb_id]` is what the model answers (a number, a string, or None for no
    probability); unknown ids get `default`. `fail_batch` makes predict_batch answer 500."""

    def __init__(self, server: FakeHttpServer, default: float | str | None = 0.5) -> None:
        self.server = server
        self.probabilities: dict[str, float | str | None] = {}
        self.default = default
        self.fail_batch = False
        server.route("POST", BATCH_PATH, self._batch)
        server.route("POST", ITEM_PATH, self._item)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self.server.port

    def _result(self, item: dict[str, Any]) -> dict[str, Any]:
        imdb_id = item["imdb_id"]
        probability = self.probabilities.get(imdb_id, self.default)
        prediction = None
        if probability is not None:
            prediction = int(float(probability) >= 0.5)
        return {"imdb_id": imdb_id, "prediction": prediction, "probability": probability}

    def _batch(self, request: Request) -> Reply:
        if self.fail_batch:
            return Reply(500, {"detail": "model worker crashed"})
        items = request.json()["items"]
        return Reply(200, {"results": [self._result(i) for i in items]})

    def _item(self, request: Request) -> Reply:
        return Reply(200, self._result(request.json()))

    def batch_calls(self) -> list[Request]:
        return self.server.calls(BATCH_PATH)

    def item_calls(self) -> list[Request]:
        return self.server.calls(ITEM_PATH)
