"""Every HTTP sink (backend, GitHub, Slack) against a loopback server whose error answers are
hostile: an HTML page or a JSON body quoting what we sent, control characters and ANSI escapes
that would forge log lines, request ids of any shape, waits of years, and ticket ids that are
URLs. What reaches a log line or an exception message (and so the DLQ reason and the
incident's history) is a status, a short code, a well-formed request id: never the body."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

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
from triage.sinks.http import MAX_WAIT_S
from triage.sinks.slack import SlackSink

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="Checkout API 5xx on web-1",
    team="ops",
    priority=Priority.CRITICAL,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "checkout"},
)
TICKET = Ticket(title=ALERT.title, priority=Priority.CRITICAL, description="5xx at 12%", steps=())
EFFECT = Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, "k:1")

#: What a service quotes back of our request: it must reach no line and no error.
ECHO = "ECHOED Checkout API 5xx on web-1"
SINKS = ["backend", "github", "slack"]
Logs = list[MutableMapping[str, Any]]


class _Sink(Protocol):
    async def apply(self, effect: Effect) -> Applied: ...


@asynccontextmanager
async def _sink(kind: str, url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[_Sink]:
    sink: BackendSink | GitHubSink | SlackSink
    if kind == "backend":
        monkeypatch.setenv("BACKEND_TOKEN", "backend-token-1")
        settings = Settings(backend_base_url=url)
        sink = BackendSink(settings, BackendToken(settings))
    elif kind == "github":
        token = SecretStr("github-token-1")
        sink = GitHubSink(
            Settings(github_api_url=url, github_repository="acme/ops", github_token=token)
        )
    else:
        webhook = SecretStr(f"{url}/services/T1/B1/webhook-token-1")
        sink = SlackSink(Settings(slack_webhook_url=webhook, slack_min_interval_s=0))
    try:
        yield sink
    finally:
        await sink.aclose()


async def _failure(kind: str, scripted: Any, monkeypatch: pytest.MonkeyPatch) -> TriageError:
    async with hostile(scripted) as server, _sink(kind, server.url, monkeypatch) as sink:
        with pytest.raises(TriageError) as caught:
            await sink.apply(EFFECT)
    return caught.value


def _logged(logs: Logs) -> str:
    return "\n".join(str(value) for entry in logs for value in entry.values())


_HTML = f"<html><body><h1>Bad Gateway</h1><pre>{ECHO}</pre></body></html>"
#: JSON bodies that quote the request where no field we read is: an unknown key, GitHub's
#: `errors[].value`, a nested `request`.
_JSON = {
    "backend": {"detail": ECHO, "request": {"title": ECHO}},
    "github": {
        "message": "Validation Failed",
        "errors": [{"resource": "Issue", "field": "title", "code": "invalid", "value": ECHO}],
        "request": ECHO,
    },
    "slack": {"error": f"{ECHO} was refused"},
}


@pytest.mark.parametrize("kind", SINKS)
@pytest.mark.parametrize("status", [400, 422, 500, 503])
@pytest.mark.parametrize("shape", ["html", "json", "text"])
async def test_an_error_body_that_quotes_the_request_is_in_no_line_or_error(
    kind: str, status: int, shape: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """An error answer quoting the alert we sent (an HTML page, a JSON body outside the fields
    the sink reads, plain text) fails the call naming its status, and no log line or
    exception message carries the quoted text."""
    if shape == "html":
        body, kind_of = _HTML.encode(), "text/html"
    elif shape == "json":
        body, kind_of = json.dumps(_JSON[kind]).encode(), "application/json"
    else:
        body, kind_of = f"request was: {ECHO}".encode(), "text/plain"
    error = await _failure(kind, answer(status, {"Content-Type": kind_of}, body), monkeypatch)
    assert str(status) in str(error)
    assert "ECHOED" not in str(error)
    assert "ECHOED" not in _logged(logs)


def _controls(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf")]


#: Log injection: a forged line after CR LF, ANSI escapes that clear and recolour a terminal.
_FORGED = "denied\x1b[2J\x1b[31m\r\nlevel=error event=forged\x07\x00\u202e"
_CONTROL_BODIES = {
    "backend": json.dumps({"error": _FORGED}),
    "github": json.dumps({"message": f"Validation Failed {_FORGED}"}),
    "slack": _FORGED,
}


@pytest.mark.parametrize("kind", SINKS)
@pytest.mark.parametrize("status", [403, 422, 502])
@pytest.mark.parametrize("encoded", [False, True])
async def test_control_characters_in_an_answer_reach_no_line_or_error(
    kind: str, status: int, encoded: bool, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """An error answer holding CR LF, ANSI escapes, NUL, BEL or a bidi override (raw, or
    JSON-escaped in a field the sink reads) leaves none of them in a log value or the
    exception's message: no forged line, no repainted terminal."""
    body = _CONTROL_BODIES[kind] if encoded else _FORGED
    headers = {"Content-Type": "application/json" if encoded else "text/plain"}
    error = await _failure(kind, answer(status, headers, body.encode()), monkeypatch)
    assert _controls(str(error)) == []
    for entry in logs:
        for value in entry.values():
            assert _controls(str(value)) == [], (entry["event"], value)


_CODES: dict[str, tuple[int, dict[str, str], bytes, list[str]]] = {
    "backend": (422, {}, b'{"error": "invalid_priority"}', ["422", "invalid_priority"]),
    "github": (
        422,
        {},
        json.dumps(
            {
                "message": "Validation Failed",
                "errors": [
                    {"resource": "Issue", "field": "assignees", "code": "invalid", "value": ECHO}
                ],
            }
        ).encode(),
        ["422", "Validation Failed", "assignees", "invalid"],
    ),
    "slack": (400, {}, b"invalid_payload", ["400", "invalid_payload"]),
}


@pytest.mark.parametrize("kind", SINKS)
async def test_a_services_short_error_code_is_kept(
    kind: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """What an operator needs of a refusal stays: the status and the service's own error code
    (GitHub's message and the fields and codes of its validation errors), but not the values
    GitHub quotes back."""
    status, headers, body, kept = _CODES[kind]
    headers = {"Content-Type": "application/json", **headers}
    error = await _failure(kind, answer(status, headers, body), monkeypatch)
    for word in kept:
        assert word in str(error)
    assert "ECHOED" not in str(error) and "ECHOED" not in _logged(logs)


_REQUEST_ID_HEADER = {"backend": "X-Request-Id", "github": "X-GitHub-Request-Id"}
_WELL_FORMED_ID = {"backend": "req-7f3a9c2e-41b0", "github": "CE3E:1D6A:4A1E7A0:4B3A8E8:6578A1B2"}


@pytest.mark.parametrize("kind", ["backend", "github"])
async def test_a_well_formed_request_id_is_named_in_the_error(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure names the service's request id (what its support asks for) when the id has
    the service's format."""
    request_id = _WELL_FORMED_ID[kind]
    headers = {"Content-Type": "application/json", _REQUEST_ID_HEADER[kind]: request_id}
    error = await _failure(kind, answer(422, headers, b'{"message": "x"}'), monkeypatch)
    assert f"request {request_id}" in str(error)


async def test_githubs_request_id_survives_a_long_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GitHub's long secondary-limit message is cut to fit the reason, and its request id is
    still named after it (the cut never takes it)."""
    request_id = _WELL_FORMED_ID["github"]
    message = "You have exceeded a secondary rate limit. " + "Please retry later. " * 20
    headers = {"Content-Type": "application/json", "X-GitHub-Request-Id": request_id}
    body = json.dumps({"message": message}).encode()
    error = await _failure("github", answer(403, headers, body), monkeypatch)
    assert "secondary rate limit" in str(error) and f"(request {request_id})" in str(error)


@pytest.mark.parametrize("kind", ["backend", "github"])
@pytest.mark.parametrize(
    "request_id",
    [f"<b>{ECHO}</b>", "x" * 300, "AKIAQ7ZK4MWB2XHP9TLR", "id with spaces ECHOED"],
    ids=["markup", "huge", "secret-shaped", "words"],
)
async def test_a_malformed_request_id_is_left_out(
    kind: str, request_id: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """A request id header of another shape (markup, huge, a credential, words) is not
    named anywhere."""
    headers = {"Content-Type": "application/json", _REQUEST_ID_HEADER[kind]: request_id}
    error = await _failure(kind, answer(422, headers, b'{"message": "x"}'), monkeypatch)
    for text in (str(error), _logged(logs)):
        assert request_id not in text and "ECHOED" not in text and "AKIA" not in text


@pytest.mark.parametrize("kind", SINKS)
@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    "retry_after",
    ["99999999999", "1e300", "Fri, 01 Jan 2100 00:00:00 GMT"],
    ids=["huge", "astronomic", "far-date"],
)
async def test_a_wait_of_years_is_at_most_an_hour(
    kind: str, status: int, retry_after: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Retry-After of years (a huge number, a date in the next century) is a wait of at
    most MAX_WAIT_S: one answer must not pause a sink, and intake with it, until a restart."""
    headers = {"Retry-After": retry_after}
    error = await _failure(kind, answer(status, headers), monkeypatch)
    wait_s = getattr(error, "retry_after_s", None)
    assert wait_s is not None and 0 < wait_s <= MAX_WAIT_S


@pytest.mark.parametrize(
    "ticket_id",
    [
        "https://evil.example/tickets/1",
        "//evil.example/t/1",
        "../../admin",
        "T-1<script>",
        "T-1](https://evil.example)",
        "AKIAQ7ZK4MWB2XHP9TLR",
        "T" * 129,
    ],
    ids=["url", "scheme-relative", "path", "markup", "markdown", "secret-shaped", "long"],
)
async def test_a_ticket_id_that_is_no_plausible_reference_is_refused(
    ticket_id: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """A create answer whose id is a URL (to another host), a path, markup, a credential's
    shape or too long is not stored as the ticket's reference (the idempotency key names the
    ticket instead), and one warning says so without quoting it."""
    created = answer(
        201, {"Content-Type": "application/json"}, json.dumps({"id": ticket_id}).encode()
    )
    async with hostile(created) as server, _sink("backend", server.url, monkeypatch) as sink:
        applied = await sink.apply(EFFECT)
    assert applied.ref == EFFECT.idempotency_key
    [line] = [e for e in logs if e["log_level"] != "debug"]
    assert line["event"] == "backend.no_ticket_id" and line["refused"] == "id"
    assert ticket_id not in _logged(logs)


@pytest.mark.parametrize("ticket_id", ["T-1", "OPS-7", "INC0012345", "42", "01HZX3K5M8.a_b:c~d"])
async def test_a_plausible_ticket_id_is_the_reference(
    ticket_id: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """Ticket ids as trackers write them (keys, numbers, ULIDs) are taken as they are."""
    created = answer(
        201, {"Content-Type": "application/json"}, json.dumps({"id": ticket_id}).encode()
    )
    async with hostile(created) as server, _sink("backend", server.url, monkeypatch) as sink:
        assert (await sink.apply(EFFECT)).ref == ticket_id
    assert [e for e in logs if e["log_level"] != "debug"] == []


def _raw(head: bytes) -> Any:
    """An answer whose head is `head` as it is: a status line or header HTTP forbids."""

    async def write(writer: Any) -> None:
        writer.write(head)
        await writer.drain()

    return write


_BROKEN_HEADS = {
    "status-line": b"HTTP/1.1 200 \x1b[31m" + ECHO.encode() + b"\x07\r\nContent-Length: 0\r\n\r\n",
    "status-code": b"HTTP/1.1 2" + ECHO.encode() + b"\x1b[2J OK\r\n\r\n",
    "header": b"HTTP/1.1 200 OK\r\nX-" + ECHO.encode() + b"\x1b[2J\x00: v\r\n\r\n",
    "version": b"\x1b[2J" + ECHO.encode() + b"\r\n\r\n",
}


@pytest.mark.parametrize("kind", SINKS)
@pytest.mark.parametrize("head", list(_BROKEN_HEADS))
async def test_an_answer_http_forbids_is_told_by_its_class_alone(
    kind: str, head: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """An answer the HTTP parser refuses (a status line or header holding the request's text
    and ANSI escapes) fails the call, and neither the parser's error text (which quotes the
    bytes it refused) nor any of their control characters reaches a log line or the error."""
    error = ""
    async with (
        hostile(_raw(_BROKEN_HEADS[head])) as server,
        _sink(kind, server.url, monkeypatch) as sink,
    ):
        try:
            await sink.apply(EFFECT)
        except TriageError as exc:
            error = str(exc)
    told = [error, *(str(value) for entry in logs for value in entry.values())]
    for text in told:
        assert "ECHOED" not in text and _controls(text) == [], text


@pytest.mark.parametrize(
    ("location", "told"),
    [
        (f"https://login.example.com/sso?next=/t&title={ECHO}", "https://login.example.com/sso"),
        ("https://login.example.com/a/AKIAQ7ZK4MWB2XHP9TLR/b", "https://login.example.com"),
        (f"https://login.example.com/{ECHO}", "https://login.example.com"),
        (f"/moved#{ECHO}", "/moved"),
        (f"javascript:{ECHO}", "a Location of another form"),
    ],
    ids=["query", "secret-in-path", "words-in-path", "fragment", "other-scheme"],
)
async def test_a_backend_redirect_names_where_it_points_and_no_more(
    location: str, told: str, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """A redirect from the backend names the scheme, host and plain path it points to (what
    an operator fixes BACKEND_BASE_URL by), never its query, fragment, a path of words or a
    credential's shape."""
    error = await _failure("backend", answer(302, {"Location": location}), monkeypatch)
    assert f"redirecting to {told!r}" in str(error)
    for text in (str(error), _logged(logs)):
        assert "ECHOED" not in text and "AKIA" not in text


@pytest.mark.parametrize("reset", ["99999999999", "1e300", "-5", "nan", "soon"])
async def test_a_github_rate_limit_reset_of_years_is_at_most_an_hour(
    reset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spent budget whose x-ratelimit-reset is years ahead, past, or no number holds the
    message for at least a second and at most MAX_WAIT_S, never a pause until a restart."""
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    error = await _failure("github", answer(403, headers, b'{"message": "x"}'), monkeypatch)
    wait_s = getattr(error, "retry_after_s", None)
    assert wait_s is not None and 1.0 <= wait_s <= MAX_WAIT_S
