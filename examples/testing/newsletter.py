"""A tiny app to show ``bridge.testing``: subscribing stores a row and enqueues a welcome mail
in the same transaction, plus a CRM sync that an Elixir worker runs; a weekly digest job fans
out one mail per subscriber."""

from __future__ import annotations

from typing import Any

import psycopg

from bridge import Cancel, Client, Job, Record, Snooze, worker

SCHEMA = "CREATE TABLE IF NOT EXISTS subscribers (email text PRIMARY KEY)"


def subscribe(conn: psycopg.Connection[Any], email: str) -> None:
    """Your transaction, your commit: the row and both jobs land together, or not at all."""
    conn.execute("INSERT INTO subscribers (email) VALUES (%s)", (email,))
    client = Client(conn)
    send_welcome.enqueue({"email": email}, client=client)
    client.enqueue("MyApp.Workers.CrmSync", {"email": email}, queue="crm")  # Elixir runs it


@worker("newsletter.SendWelcome", queue="newsletter_mail", max_attempts=3)
def send_welcome(job: Job) -> Record | Cancel | Snooze:
    email = job.args["email"]
    if "@" not in email:
        return Cancel(f"not an address: {email}")
    if email.endswith("@greylisted.example"):
        return Snooze(60)
    if email.endswith("@down.example"):
        raise ConnectionError("SMTP server down")
    return Record({"sent_to": email})


@worker("newsletter.Digest", queue="newsletter_mail")
async def digest(job: Job) -> int:
    """Enqueue one mail per address (with the default client, as a node's workers would)."""
    for email in job.args["emails"]:
        send_welcome.enqueue({"email": email})
    return len(job.args["emails"])
