"""The escalator against faulty Slack and GitHub servers on loopback: an answer that breaks after
its 2xx, a 2xx that refuses, an echoed webhook URL, an issue of the wrong shape. Each ends as a
wait, a refusal or a post, never as a second post or a crash (the sweep decides what comes next
from SinkUnavailableError and SinkRejectedError, tests/test_silences.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from hostile_server import answer, hostile, then_reset
from triage.errors import SinkRejectedError, SinkUnavailableError
from triage.incidents.lifecycle import Incident, State
from triage.ops.escalate import Escalator
from triage.routes import load_router
from triage.settings import Settings

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


def escalator(tmp_path: Path, target: str, api_url: str | None = None) -> Escalator:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(target=target))
    settings = Settings(
        routes_file=routes,
        github_token=SecretStr(GH_TOKEN),
        github_repository="acme/ops",
        **({"github_api_url": api_url} if api_url else {}),
    )
    return Escalator(settings, load_router(settings))


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
        except (SinkUnavailableError, SinkRejectedError) as exc:
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


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("ratelimited", SinkUnavailableError),
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
    assert "[webhook]" in str(error)


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
    async with hostile(json_answer) as server:
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
