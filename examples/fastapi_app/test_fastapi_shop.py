"""The FastAPI example, run through FastAPI's TestClient: the lifespan starts a real node on a
fresh database (``oban_bridge_dsn``), which works the job an endpoint enqueued."""

from __future__ import annotations

import time

import pytest

try:
    from fastapi.testclient import TestClient
except (ImportError, RuntimeError) as exc:  # RuntimeError: Starlette without httpx2 or httpx
    pytest.skip(
        f"FastAPI's TestClient unavailable (pip install -e '.[dev]'): {exc}",
        allow_module_level=True,
    )

from shop import create_app

pytestmark = pytest.mark.pg


def test_the_lifespan_node_runs_what_the_endpoint_enqueued(oban_bridge_dsn: str) -> None:
    with TestClient(create_app(oban_bridge_dsn)) as http:
        jobs = http.post("/orders", json={"email": "ada@example.com", "total": 42}).json()
        deadline = time.monotonic() + 15
        receipt = http.get(f"/jobs/{jobs['receipt_job']}").json()
        while receipt["state"] != "completed" and time.monotonic() < deadline:
            time.sleep(0.05)
            receipt = http.get(f"/jobs/{jobs['receipt_job']}").json()
        invoice = http.get(f"/jobs/{jobs['invoice_job']}").json()
        assert http.get("/jobs/999999").status_code == 404
    assert receipt == {
        "id": jobs["receipt_job"],
        "worker": "shop.send_receipt",
        "state": "completed",
        "recorded": {"sent_to": "ada@example.com"},
    }
    # an Elixir worker's job waits for an Elixir node; this app's node never touches it
    assert invoice["worker"] == "Shop.Workers.Invoice" and invoice["state"] == "available"
