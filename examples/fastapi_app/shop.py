"""A FastAPI app whose lifespan runs an oban-bridge ``Node``, and endpoints that enqueue.

    pip install oban-bridge fastapi uvicorn
    DATABASE_URL=postgresql://localhost/app uvicorn shop:app

``POST /orders`` enqueues a receipt for the Python worker below, which this app's own node
runs, and an invoice for an Elixir worker, which whichever Elixir node runs ``invoices``
picks up. ``GET /jobs/{id}`` shows a job and its recorded output.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

from bridge import AsyncClient, AsyncSource, Job, JobNotFound, Node, Record, worker


@worker("shop.send_receipt", queue="receipts", max_attempts=5)
async def send_receipt(job: Job) -> Record:
    # a real app would render and send the e-mail here
    return Record({"sent_to": job.args["email"]})


class Order(BaseModel):
    email: str
    total: int


def create_app(dsn: str | None = None) -> FastAPI:
    dsn = dsn or os.environ["DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the node runs this app's workers; the client (a small pool) serves the endpoints
        node = Node(dsn, queues={"receipts": 10}, workers=[send_receipt])
        async with AsyncClient(AsyncSource(dsn, pool_size=4)) as client:
            app.state.client = client
            await node.start()
            try:
                yield
            finally:
                await node.stop()  # running jobs get the grace period, the rest go back

    app = FastAPI(lifespan=lifespan)

    @app.post("/orders")
    async def create_order(order: Order, request: Request) -> dict[str, Any]:
        client: AsyncClient = request.app.state.client
        receipt = await send_receipt.enqueue_async({"email": order.email}, client=client)
        invoice = await client.enqueue(
            "Shop.Workers.Invoice", {"email": order.email, "total": order.total}, queue="invoices"
        )
        return {"receipt_job": receipt.id, "invoice_job": invoice.id}

    @app.get("/jobs/{job_id}")
    async def show_job(job_id: int, request: Request) -> dict[str, Any]:
        client: AsyncClient = request.app.state.client
        try:
            job = await client.get_job(job_id)
        except JobNotFound:
            raise HTTPException(status_code=404, detail=f"no job {job_id}") from None
        value = await client.fetch_recorded(job) if job.meta.get("recorded") else None
        return {"id": job.id, "worker": job.worker, "state": job.state, "recorded": value}

    return app


if os.environ.get("DATABASE_URL"):  # `uvicorn shop:app`
    app = create_app()
