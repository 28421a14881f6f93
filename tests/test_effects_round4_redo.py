"""An UPDATE redone under its Idempotency-Key sends the first request's body: the occurrences
it tells are the ones its decision counted, not those counted while its answer was lost, so a
backend that checks a reused key's payload answers it instead of refusing it (422)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from daemon_harness import TOKEN
from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Summariser
from test_redteam_round4_faults import JumpingClock, until
from triage.errors import SinkRejectedError, SinkUnavailableError
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Action
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sqs.inbox import Message

LEASE = timedelta(minutes=2)


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


@dataclass
class UpdateKeyedBackend:
    """A ticket backend on 127.0.0.1: creates answer T-1; updates are kept by Idempotency-Key,
    the first held until `release` and then left unanswered (done, its answer lost), a later
    one with the same key answered 200 if its body is the first's, else 422 (as the
    Idempotency-Key draft says of a reused key with another payload)."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    updates: dict[str, list[Any]] = field(default_factory=dict)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            fields = dict(
                line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:] if line
            )
            body = await reader.readexactly(int(fields.get("content-length", "0")))
            if method == "OPTIONS":
                writer.write(b"HTTP/1.1 204 Scripted\r\nConnection: close\r\n\r\n")
                return
            if path == "/tickets":
                status, answered = b"201 Created", {"id": "T-1"}
            else:
                sent = self.updates.setdefault(fields.get("idempotency-key", ""), [])
                sent.append(json.loads(body))
                if sum(len(bodies) for bodies in self.updates.values()) == 1:
                    await self.release.wait()
                    return  # updated; the answer is lost
                same = sent[-1] == sent[0]
                status = b"200 OK" if same else b"422 Unprocessable Content"
                answered = {"id": "T-1"} if same else {"error": "idempotency_key_reused"}
            text = json.dumps(answered).encode()
            writer.write(
                b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (status, len(text), text)
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def firing(message_id: str, minute: int, receipt: str = "") -> Message:
    """A firing of the incident `lag`, stamped `minute` minutes past T0."""
    at = (T0 + timedelta(minutes=minute)).isoformat()
    body = json.dumps({"title": "orders-db lag", "dedup_key": "lag", "timestamp": at})
    return Message(message_id, body, receipt or f"r-{message_id}", 1, None, received_at=T0)


async def test_an_update_redone_after_more_occurrences_sends_its_first_body() -> None:
    """An UPDATE whose answer was lost, redone after another occurrence was counted, is sent
    under its key with the body it had (the occurrences its decision counted) and answered."""
    backend = UpdateKeyedBackend()
    clock = JumpingClock()
    server = await asyncio.start_server(backend.handle, "127.0.0.1", 0)
    async with server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        settings = Settings(
            backend_base_url=url,
            backend_service_route="/tickets",
            backend_update_route="/tickets/{ref}/events",
        )
        sink = BackendSink(settings, BackendToken(settings))
        pipeline = Pipeline(
            Ledger(MemoryStore(POLICY, LEASE), clock=clock), Summariser(), [sink], Metrics(),
            redactor=Redactor(), policy=POLICY,
        )  # fmt: skip
        try:
            assert [o.action for o in await pipeline.process(firing("m-1", 0))] == [Action.OPEN]
            clock.now = T0 + timedelta(minutes=20)
            update = asyncio.create_task(pipeline.process(firing("m-2", 20)))
            await until(lambda: bool(backend.updates), "the UPDATE at the backend")
            counted = await pipeline.process(firing("m-3", 21))
            assert [o.action for o in counted] == [Action.COUNT]
            backend.release.set()
            with pytest.raises(SinkUnavailableError):
                await update
            try:
                await pipeline.process(firing("m-2", 20, receipt="r-m-2-again"))
                redone = "answered"
            except SinkRejectedError as exc:
                redone = f"refused ({exc.status})"
        finally:
            await sink.aclose()
    assert redone == "answered"
    [(_, sent)] = backend.updates.items()
    assert sent[1] == sent[0]
