"""Every HTTP sink (backend, GitHub, Slack) against a loopback server that echoes our credential
back, as written or encoded as a web server or proxy would write it (percent-encoded, form-
encoded, JSON-escaped), in an error body or a redirect's Location: no log line and no exception
message carries it, in any of those forms."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, quote_plus

import pytest
from pydantic import SecretStr

from factories import view
from hostile_server import answer, hostile
from triage.errors import TriageError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect
from triage.sinks.github import GitHubSink
from triage.sinks.slack import SlackSink

#: A credential with the characters encodings change: `/`, `+`, `=` (base64's alphabet).
SECRET = "tok/En+s3cr3t=Abc123xyz"
#: A Slack webhook's secret is the last segment of its path: no `/` in it.
WEBHOOK_SECRET = "s3cr3t+XYZ=token42"


def _secret(kind: str) -> str:
    return WEBHOOK_SECRET if kind == "slack" else SECRET


ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="disk full",
    team="ops",
    priority=Priority.CRITICAL,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "disk"},
)
TICKET = Ticket(title="Disk full", priority=Priority.CRITICAL, description="df says 100%", steps=())


class _Sink(Protocol):
    async def apply(self, effect: Effect) -> Applied: ...


def _forms(secret: str) -> dict[str, str]:
    """`secret` as servers write it back."""
    return {
        "raw": secret,
        "percent": quote(secret, safe=""),
        "form": quote_plus(secret),
        "json": json.dumps(secret)[1:-1].replace("/", "\\/"),  # PHP's json_encode, by default
    }


@asynccontextmanager
async def _sink(kind: str, url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[_Sink]:
    sink: BackendSink | GitHubSink | SlackSink
    if kind == "backend":
        monkeypatch.setenv("BACKEND_TOKEN", SECRET)
        settings = Settings(backend_base_url=url, backend_timeout_s=5)
        sink = BackendSink(settings, BackendToken(settings))
    elif kind == "github":
        settings = Settings(
            github_api_url=url, github_repository="acme/ops", github_token=SecretStr(SECRET)
        )
        sink = GitHubSink(settings)
    else:
        webhook = f"{url}/services/T1/B1/{WEBHOOK_SECRET}"
        settings = Settings(slack_webhook_url=SecretStr(webhook), slack_min_interval_s=0)
        sink = SlackSink(settings)
    try:
        yield sink
    finally:
        await sink.aclose()


SINKS = ["backend", "github", "slack"]
ECHOES = [
    (status, form) for status in (400, 401, 403, 422, 429, 500, 502) for form in _forms(SECRET)
]


@pytest.mark.parametrize("kind", SINKS)
@pytest.mark.parametrize(("status", "form"), ECHOES)
async def test_a_credential_echoed_in_an_error_body_is_in_no_log_or_error(
    kind: str,
    status: int,
    form: str,
    monkeypatch: pytest.MonkeyPatch,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """An error answer whose body quotes our credential, in any encoding, leaves no trace of
    it in the sink's log lines or its exception's message."""
    echoed = _forms(_secret(kind))[form]
    body = json.dumps({"error": "denied", "seen": f"Authorization: Bearer {echoed}"})
    body = body.replace(json.dumps(echoed)[1:-1], echoed)  # keep the form as it was written
    scripted = answer(status, {"Content-Type": "application/json"}, body.encode())
    async with hostile(scripted) as server, _sink(kind, server.url, monkeypatch) as sink:
        with pytest.raises(TriageError) as caught:
            await sink.apply(_effect())
    _assert_nowhere(_secret(kind), str(caught.value), logs)


@pytest.mark.parametrize("kind", SINKS)
@pytest.mark.parametrize("form", list(_forms(SECRET)))
async def test_a_credential_echoed_in_a_redirect_is_in_no_log_or_error(
    kind: str, form: str, monkeypatch: pytest.MonkeyPatch, logs: list[MutableMapping[str, Any]]
) -> None:
    """A redirect whose Location carries our credential (a login page's ?token=) is not
    followed, and the credential shows in no log line or exception message."""
    location = f"https://login.example.com/?next=x&token={_forms(_secret(kind))[form]}"
    scripted = answer(302, {"Location": location})
    async with hostile(scripted) as server, _sink(kind, server.url, monkeypatch) as sink:
        with pytest.raises(TriageError) as caught:
            await sink.apply(_effect())
    _assert_nowhere(_secret(kind), str(caught.value), logs)


def _effect() -> Effect:
    return Effect(
        EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, "fp:1"
    )


def _assert_nowhere(secret: str, error: str, logs: list[MutableMapping[str, Any]]) -> None:
    assert logs, "the failure was logged"
    logged = "\n".join(str(value) for entry in logs for value in entry.values())
    for name, written in _forms(secret).items():
        assert written not in error, name
        assert written not in logged, name


#: A credential that is not ours, as a service may quote one from its own configuration or
#: from what it was sent: its start alone (`AKIA` and a few characters) no longer has its shape.
OTHER_KEY = "AKIA" + "Q7ZK4MWB2XHP9TLR"


@pytest.mark.parametrize("kind", SINKS)
async def test_a_credential_an_error_quotes_where_the_reason_is_cut_leaves_no_piece(
    kind: str, monkeypatch: pytest.MonkeyPatch, logs: list[MutableMapping[str, Any]]
) -> None:
    """An error body quoting a credential where the failure's reason is cut (200 characters):
    the reason is redacted before the cut, so neither the log lines nor the error keep the
    credential's first characters, wherever the cut falls in it."""
    for pad in range(170, 200, 3):
        body = json.dumps({"message": "x" * pad + f" key={OTHER_KEY} refused"})
        scripted = answer(422, {"Content-Type": "application/json"}, body.encode())
        async with hostile(scripted) as server, _sink(kind, server.url, monkeypatch) as sink:
            with pytest.raises(TriageError) as caught:
                await sink.apply(_effect())
        logged = "\n".join(str(value) for entry in logs for value in entry.values())
        for text in (str(caught.value), logged):
            assert "AKIA" not in text and OTHER_KEY[4:10] not in text, (pad, text[-300:])
