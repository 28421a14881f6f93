"""The escalator against faulty Slack and GitHub servers on loopback: an answer that breaks after
its 2xx, a 2xx that refuses, an echoed webhook URL, an issue of the wrong shape. Each ends as a
wait, a refusal or a post, never as a second post or a crash (the sweep decides what comes next
from SinkUnavailableError and SinkRejectedError, tests/test_silences.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr

from hostile_server import answer, hostile, then_reset
from triage.breaker import BreakerState, CircuitBreaker, opened_by
from triage.errors import SinkRejectedError, SinkThrottledError, SinkUnavailableError
from triage.incidents.lifecycle import Incident, State
from triage.ops.escalate import Escalator
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks.github.refusals import RECHECK_S
from triage.sinks.guard import BREAKER_OPEN, GuardedSink

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOOK_PATH = "/services/T01/B02/Sup3rS3cr3tW3bh00kT0k3n"
GH_TOKEN = "ghp_" + "Esc4l4t3T0k3n" * 3

ROUTES = """
[[route]]
name = "payments"
sinks = ["backend", "github"]
escalate_after_s = 1800
[route.escalate]
{target}
"""


def escalator(
    tmp_path: Path,
    target: str,
    api_url: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Escalator:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(target=target))
    settings = Settings(
        routes_file=routes,
        github_token=SecretStr(GH_TOKEN),
        github_repository="acme/ops",
        **({"github_api_url": api_url} if api_url else {}),
    )
    return Escalator(settings, load_router(settings), clock=clock)


def incident(refs: dict[str, str] | None = None) -> Incident:
    return Incident(
        fingerprint="f" * 32,
        state=State.OPEN,
        source="generic",
        title="api-5xx is failing",
        opened_at=T0,
        last_event_at=T0,
        occurrences=3,
        refs=refs or {},
        route="payments",
        escalate_after_s=1800,
    )


async def slack_escalation(tmp_path: Path, *answers: object) -> tuple[int, Exception | None]:
    """Escalate once to a Slack webhook that answers `answers`: the posts it got, the error."""
    async with hostile(*answers) as server:  # type: ignore[arg-type]
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}{HOOK_PATH}"')
        try:
            await e.escalate(incident(), T0 + timedelta(minutes=31))
            error = None
        except (SinkUnavailableError, SinkRejectedError, SinkThrottledError) as exc:
            error = exc
        finally:
            await e.aclose()
        return len(server.requests), error


async def test_a_2xx_whose_body_breaks_is_a_post_not_a_retry(tmp_path: Path) -> None:
    """Slack answered 200 and the connection broke in its body: the escalation is in the
    channel, so it ends as sent instead of failing into a retry that posts it twice."""
    posts, error = await slack_escalation(tmp_path, then_reset(200, sent=b"o"))
    assert posts == 1
    assert error is None


async def test_an_upgrade_nobody_asked_for_is_a_wait_not_a_refusal(tmp_path: Path) -> None:
    """A 101 as the webhook's final answer is a broken answer: the sweep tries the escalation
    again (SinkUnavailableError), it is not refused for good."""

    async def switching(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")
        await writer.drain()

    _posts, error = await slack_escalation(tmp_path, switching)
    assert isinstance(error, SinkUnavailableError) and "101" in str(error)


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("ratelimited", SinkThrottledError),
        ("internal_error", SinkUnavailableError),
        ("channel_not_found", SinkRejectedError),
    ],
)
async def test_a_2xx_saying_ok_false_is_no_post(
    tmp_path: Path, word: str, kind: type[Exception]
) -> None:
    """A 200 `{"ok": false, "error": …}` did not post: a rate limit or Slack's own trouble is a
    wait (the sweep tries again), any other word a refusal; the word is in the error."""
    body = b'{"ok": false, "error": "' + word.encode() + b'"}'
    posts, error = await slack_escalation(
        tmp_path, answer(200, {"Content-Type": "application/json"}, body)
    )
    assert posts == 1
    assert isinstance(error, kind) and word in str(error)


async def test_an_echoed_webhook_url_is_not_in_the_error(tmp_path: Path) -> None:
    """A refusal that quotes the webhook URL (the secret is its path) is scrubbed of it, whole
    and in part, before it reaches the sweep's log line."""
    async with hostile(answer(404)) as probe:
        echoed = f"no_service: {probe.url}{HOOK_PATH} ({HOOK_PATH.rsplit('/', 1)[1]})".encode()
    posts, error = await slack_escalation(tmp_path, answer(404, body=echoed))
    assert posts == 1 and isinstance(error, SinkRejectedError)
    assert "Sup3rS3cr3t" not in str(error)
    assert "no_service" not in str(error)  # not Slack's code alone: named by size and type


@pytest.mark.parametrize(
    "body",
    [
        b"<html><title>502</title>\x1b[31mdisk full on db-1\r\nFAKE log line</html>",
        b'invalid_payload: you sent {"text": "disk full on db-1"}',
        b"\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    ],
    ids=["html-with-controls", "echo", "terminal-link"],
)
async def test_an_escalation_refusal_names_no_text_of_the_answer(
    tmp_path: Path, body: bytes
) -> None:
    """Slack's (or a proxy's) refusal of an escalation is named by Slack's error code or the
    answer's size and type, never its text: it may echo the alert, or carry CR LF and escapes
    into the sweep's log line."""
    posts, error = await slack_escalation(tmp_path, answer(400, body=body))
    assert posts == 1 and isinstance(error, SinkRejectedError)
    told = str(error)
    assert "disk full" not in told and "evil" not in told and "\x1b" not in told
    assert "\r" not in told and "\n" not in told
    assert "bytes" in told


async def test_an_escalation_refusal_keeps_slacks_error_code(tmp_path: Path) -> None:
    """A plain Slack refusal (`invalid_payload`) is named by its code."""
    posts, error = await slack_escalation(tmp_path, answer(400, body=b"invalid_payload"))
    assert posts == 1
    assert isinstance(error, SinkRejectedError) and "invalid_payload" in str(error)


@pytest.mark.parametrize(
    ("issue", "patched"),
    [
        (b"[]", False),
        (b'"an issue"', False),
        (b'{"assignees": "oncall"}', True),
        (b'{"assignees": [{"id": 1}, "x", {"login": 7}]}', True),
    ],
)
async def test_an_issue_of_the_wrong_shape_is_no_crash(
    tmp_path: Path, issue: bytes, patched: bool
) -> None:
    """GitHub answers the issue's GET with JSON of the wrong shape: an issue that is no object
    is a wait (bad_response, the sweep tries again), assignees that are no list or have no
    login count as none and the lead is assigned; never an AttributeError, KeyError or
    TypeError out of the sweep."""
    json_answer = answer(200, {"Content-Type": "application/json"}, issue)
    # Then the PATCH, the look for an earlier attempt's comment (a list) and the comment.
    later = answer(200, {"Content-Type": "application/json"}, b"[]")
    async with hostile(json_answer, later) as server:
        e = escalator(tmp_path, 'github_assignees = ["oncall-lead"]', api_url=server.url)
        error: SinkUnavailableError | None = None
        try:
            await e.escalate(
                incident({"github": "https://github.com/acme/ops/issues/7"}),
                T0 + timedelta(minutes=31),
            )
        except SinkUnavailableError as exc:
            error = exc
        finally:
            await e.aclose()
        sent = [(r.head.split(b" ", 1)[0], r.body) for r in server.requests]
    if patched:
        assert error is None
        assert (b"PATCH", b'{"assignees":["oncall-lead"]}') in sent
    else:
        assert error is not None and error.reason == "bad_response"
        assert [method for method, _ in sent] == [b"GET"]


@pytest.mark.parametrize(("already", "added"), [(8, ["lead-1", "lead-2"]), (10, [])])
async def test_an_escalation_assigns_no_more_than_githubs_ten(
    tmp_path: Path, already: int, added: list[str]
) -> None:
    """An issue people already assigned 8 (or 10) to, and a route naming 3 assignees: the
    PATCH keeps the people and adds the route's up to GitHub's 10 (11 is a 422 for the whole
    PATCH); with 10 already there is no PATCH, and the label and comment still go."""
    people = [{"login": f"person-{i}"} for i in range(already)]
    issue = json.dumps({"assignees": people}).encode()
    # Every later call (PATCH, label, the look for an earlier attempt's comment, the comment)
    # answered `[]`: the look reads a list, and the others' answers are not read.
    answers = [
        answer(200, {"Content-Type": "application/json"}, issue),
        answer(200, {"Content-Type": "application/json"}, b"[]"),
    ]
    async with hostile(*answers) as server:
        e = escalator(
            tmp_path,
            'github_assignees = ["lead-1", "lead-2", "lead-3"]\ngithub_label = "escalated"',
            api_url=server.url,
        )
        try:
            await e.escalate(
                incident({"github": "https://github.com/acme/ops/issues/7"}),
                T0 + timedelta(minutes=31),
            )
        finally:
            await e.aclose()
        sent = [(r.head.split(b" ", 1)[0], r.body) for r in server.requests]
    patches = [json.loads(body) for method, body in sent if method == b"PATCH"]
    if added:
        assert patches == [{"assignees": [p["login"] for p in people] + added}]
    else:
        assert patches == []
    assert [method for method, _ in sent].count(b"POST") == 2  # the label, the comment


# --- The sinks' circuit breakers -------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Service:
    """A sink by name only: the escalator uses its guard's breaker, never the sink."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def apply(self, effect: object) -> object:
        raise AssertionError("the escalator never applies an effect")

    async def aclose(self) -> None:
        return None


def guard_of(name: str, clock: _Clock, failures: int = 5) -> GuardedSink:
    breaker = CircuitBreaker(f"sink:{name}", failures, 30.0, clock=clock)
    return GuardedSink(_Service(name), breaker, clock=clock)  # type: ignore[arg-type]


def guarded_escalator(
    tmp_path: Path, target: str, guard: GuardedSink, slack_hook: str, api_url: str | None = None
) -> Escalator:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(target=target))
    settings = Settings(
        routes_file=routes,
        github_token=SecretStr(GH_TOKEN),
        github_repository="acme/ops",
        slack_webhook_url=SecretStr(slack_hook),
        **({"github_api_url": api_url} if api_url else {}),
    )
    return Escalator(settings, load_router(settings), guards=[guard])


async def test_an_open_slack_breaker_holds_the_escalation_until_it_closes(tmp_path: Path) -> None:
    """While the Slack sink's breaker is open the escalation to a webhook on the same host is
    not posted (breaker_open, a wait); once it is half-open the escalation is its probe, goes
    out, and its success closes the breaker."""
    clock = _Clock()
    guard = guard_of("slack", clock)
    guard.breaker.trip()
    async with hostile(answer(200, body=b"ok")) as server:
        e = guarded_escalator(
            tmp_path,
            f'slack_webhook_url = "{server.url}{HOOK_PATH}"',
            guard,
            f"{server.url}/services/T01/B09/D3f4ult",
        )
        try:
            with pytest.raises(SinkThrottledError) as held:
                await e.escalate(incident(), T0 + timedelta(minutes=31))
            assert held.value.reason == BREAKER_OPEN and not server.requests
            clock.now += 31
            await e.escalate(incident(), T0 + timedelta(minutes=32))
        finally:
            await e.aclose()
        assert len(server.requests) == 1
    assert guard.breaker.state is BreakerState.CLOSED


async def test_escalation_failures_count_toward_the_slack_breaker(tmp_path: Path) -> None:
    """An escalation webhook that answers 503 counts against the Slack sink's breaker, as the
    sink's posts do: the failure that opens it says so (its `breaker.opened` is the outage's
    line), and the next escalation waits without a request."""
    clock = _Clock()
    guard = guard_of("slack", clock, failures=2)
    async with hostile(answer(503)) as server:
        e = guarded_escalator(
            tmp_path,
            f'slack_webhook_url = "{server.url}{HOOK_PATH}"',
            guard,
            f"{server.url}/services/T01/B09/D3f4ult",
        )
        errors: list[Exception] = []
        try:
            for _ in range(3):
                try:
                    await e.escalate(incident(), T0 + timedelta(minutes=31))
                except (SinkUnavailableError, SinkThrottledError) as exc:
                    errors.append(exc)
        finally:
            await e.aclose()
        assert len(server.requests) == 2
    assert opened_by(errors[0]) is None and opened_by(errors[1]) == "sink:slack"
    assert isinstance(errors[2], SinkThrottledError) and errors[2].reason == BREAKER_OPEN


async def test_a_webhook_on_another_host_is_not_held_by_slacks_breaker(tmp_path: Path) -> None:
    """The Slack sink's breaker stands for the host of its webhook: an escalation webhook on
    another host is another service, posted to while Slack's breaker is open."""
    clock = _Clock()
    guard = guard_of("slack", clock)
    guard.breaker.trip()
    async with hostile(answer(200, body=b"ok")) as server:
        e = guarded_escalator(
            tmp_path,
            f'slack_webhook_url = "{server.url}{HOOK_PATH}"',
            guard,
            "https://hooks.slack.com/services/T01/B09/D3f4ult",
        )
        try:
            await e.escalate(incident(), T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
        assert len(server.requests) == 1


async def test_an_open_github_breaker_holds_the_escalation(tmp_path: Path) -> None:
    """While the GitHub sink's breaker is open the escalation's assignees, label and comment
    are not attempted: a wait (breaker_open), no request to GitHub."""
    clock = _Clock()
    guard = guard_of("github", clock)
    guard.breaker.trip()
    async with hostile(answer(200, {"Content-Type": "application/json"}, b"{}")) as server:
        e = guarded_escalator(
            tmp_path,
            'github_assignees = ["oncall-lead"]\ngithub_label = "escalated"',
            guard,
            "https://hooks.slack.com/services/T01/B09/D3f4ult",
            api_url=server.url,
        )
        try:
            with pytest.raises(SinkThrottledError) as held:
                await e.escalate(
                    incident({"github": "https://github.com/acme/ops/issues/7"}),
                    T0 + timedelta(minutes=31),
                )
        finally:
            await e.aclose()
        assert held.value.reason == BREAKER_OPEN and not server.requests


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "Must have admin rights to Repository."), (422, "Validation Failed")],
)
async def test_a_label_github_will_not_add_still_leaves_the_escalation_comment(
    tmp_path: Path, status: int, message: str
) -> None:
    """The escalation's label refused (the repository lacks it and the token may not create
    it): one `escalation.label_refused` warning, and the comment still goes (the whole
    escalation was refused for good, and nobody was told)."""
    refused = json.dumps({"message": message}).encode()
    answers = [
        answer(status, {"Content-Type": "application/json"}, refused),
        # The look for an earlier attempt's comment (a list), then the comment.
        answer(200, {"Content-Type": "application/json"}, b"[]"),
    ]
    async with hostile(*answers) as server:
        e = escalator(tmp_path, 'github_label = "escalated"', api_url=server.url)
        try:
            with structlog.testing.capture_logs() as logs:
                await e.escalate(
                    incident({"github": "https://github.com/acme/ops/issues/7"}),
                    T0 + timedelta(minutes=31),
                )
        finally:
            await e.aclose()
        sent = [r.head.split(b"?")[0].split(b" ")[:2] for r in server.requests]
    assert sent == [
        [b"POST", b"/repos/acme/ops/issues/7/labels"],
        [b"GET", b"/repos/acme/ops/issues/7/comments"],
        [b"POST", b"/repos/acme/ops/issues/7/comments"],
    ]
    assert [x["event"] for x in logs if x["log_level"] == "warning"] == ["escalation.label_refused"]


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "Must have admin rights to Repository."), (422, "Validation Failed")],
)
async def test_a_refused_escalation_label_is_asked_for_once_per_recheck_period(
    tmp_path: Path, status: int, message: str
) -> None:
    """A repository whose escalation label GitHub refused to create (403), or will not take
    (422), is not asked for it again (nor warned of again) at the next escalations until
    `RECHECK_S` has passed; then it is asked for again, as someone may have created it."""
    now = [0.0]
    refused = json.dumps({"message": message}).encode()
    answers = [
        answer(status, {"Content-Type": "application/json"}, refused),
        # Every later call: `[]` is the list the look for an earlier attempt's comment reads.
        answer(200, {"Content-Type": "application/json"}, b"[]"),
    ]
    async with hostile(*answers) as server:
        e = escalator(tmp_path, 'github_label = "escalated"', server.url, lambda: now[0])
        try:
            with structlog.testing.capture_logs() as logs:
                for number, at in ((7, 0.0), (8, 10.0), (9, RECHECK_S + 1.0)):
                    now[0] = at
                    await e.escalate(
                        incident({"github": f"https://github.com/acme/ops/issues/{number}"}),
                        T0 + timedelta(minutes=31),
                    )
        finally:
            await e.aclose()
        sent = [r.head.split(b" ", 2)[1] for r in server.requests if r.head.startswith(b"POST")]
    assert sent == [
        b"/repos/acme/ops/issues/7/labels",
        b"/repos/acme/ops/issues/7/comments",
        b"/repos/acme/ops/issues/8/comments",
        b"/repos/acme/ops/issues/9/labels",
        b"/repos/acme/ops/issues/9/comments",
    ]
    assert [x["event"] for x in logs if x["log_level"] == "warning"] == ["escalation.label_refused"]
