"""Fixes of round 7's HTTP red team (tests/test_redteam_round7_http.py), checked further:
`triage health` holds one deadline over its whole probe and reads a bounded answer, and the
escalator's webhook and GitHub comment treat a throttle, a proxy's page and a lost answer as
the Slack and GitHub sinks do. Each runs the real code over real HTTP to a loopback server on
127.0.0.1 (`hostile_server`)."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hostile_server import Answer, HostileServer, answer, endless, hostile
from test_escalate import HOOK_PATH, T0, escalator, incident
from triage.cli import HEALTH_ANSWER_MAX, main
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.incidents.lifecycle import Incident
from triage.ops.escalate import escalation_marker

# --- triage health ------------------------------------------------------------------------------


def silent(answered: asyncio.Event) -> Answer:
    """Takes the request and never answers (not even a status line) until `answered` is set."""

    async def write(writer: asyncio.StreamWriter) -> None:
        await answered.wait()

    return write


async def health(
    server_answer: Answer,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    release: asyncio.Event | None = None,
) -> tuple[int, str, str]:
    """`triage health ARGS` against a server answering `server_answer`: its exit code, stdout
    and stderr (`release` is set once it has returned, to let a silent server go)."""
    async with hostile(server_answer) as server:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", server.url.rsplit(":", 1)[1])
        try:
            code = await asyncio.to_thread(main, ["health", *args])
        finally:
            if release is not None:
                release.set()
    said = capsys.readouterr()
    return code, said.out, said.err


async def test_health_that_gets_no_answer_in_time_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program on the port that takes the request and never answers fails the probe with
    exit 1 and one line naming the deadline, not a traceback or a hang."""
    release = asyncio.Event()
    code, out, err = await health(
        silent(release), ["--timeout", "0.2"], monkeypatch, capsys, release
    )
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("triage: health: http://127.0.0.1:") and "within 0.2 s" in line


async def test_health_names_an_answer_past_its_bound(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An answer without end is exit 1 and one line saying it was too large to be triage's,
    without its bytes."""
    code, out, err = await health(endless(), ["--timeout", "30"], monkeypatch, capsys)
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert "not triage's answer" in line and f"over {HEALTH_ANSWER_MAX // 1024} KiB" in line
    assert "xxxx" not in line


async def test_health_takes_triages_answer_even_when_it_is_compressed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gzip answer (a proxy that compresses though asked not to) is decoded once: triage's
    `{"alive": true}` behind it is exit 0, its text shown as said."""
    body = gzip.compress(json.dumps({"alive": True}).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    code, out, err = await health(answer(200, headers, body), [], monkeypatch, capsys)
    assert code == 0, err
    assert out.endswith(': 200 {"alive": true}\n')


async def test_health_reads_an_answer_up_to_its_bound(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A triage answer right at the bound (a long `failing` map) is still read whole."""
    said = {"ready": True, "failing": {}, "pad": ""}
    said["pad"] = "p" * (HEALTH_ANSWER_MAX - len(json.dumps(said)))
    body = json.dumps(said).encode()
    assert len(body) == HEALTH_ANSWER_MAX
    headers = {"Content-Type": "application/json"}
    code, out, err = await health(answer(200, headers, body), ["--ready"], monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("http://127.0.0.1:") and ': 200 {"ready": true' in out


# --- the escalation webhook -------------------------------------------------------------------

#: A sign-in page, as an SSO or egress proxy answers for a route it holds back.
SIGN_IN_PAGE = (
    b"<!doctype html><html><head><title>Sign in</title></head>"
    b"<body><form action=/login>Sign in to continue</form></body></html>"
)


async def test_an_escalation_webhook_answered_with_a_web_page_is_not_posted(
    tmp_path: Path,
) -> None:
    """An escalation webhook answered 200 with a proxy's sign-in page reached no Slack: the
    escalation fails as transient (bad_response, so the sweep tries again) and says so by the
    page's size and type, never its text."""
    page = answer(200, {"Content-Type": "text/html; charset=utf-8"}, SIGN_IN_PAGE)
    async with hostile(page) as server:
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}{HOOK_PATH}"')
        try:
            with pytest.raises(SinkUnavailableError) as failed:
                await e.escalate(incident(), T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
    assert failed.value.reason == "bad_response"
    assert "web page" in str(failed.value) and "Sign in" not in str(failed.value)
    assert HOOK_PATH not in str(failed.value)


async def test_slacks_own_ok_labelled_html_is_still_a_post(tmp_path: Path) -> None:
    """Slack's incoming webhook answers `ok` labelled text/html: that is Slack's success, and
    the escalation is done (the page check reads the body, not its type)."""
    ok = answer(200, {"Content-Type": "text/html"}, b"ok")
    async with hostile(ok) as server:
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}{HOOK_PATH}"')
        try:
            await e.escalate(incident(), T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
    assert len(server.requests) == 1


async def test_a_rate_limited_escalation_webhook_on_its_own_host_is_a_wait_too(
    tmp_path: Path,
) -> None:
    """A webhook on a host of its own (no breaker) answering 429 without Retry-After is a
    wait of Slack's spacing of posts (SinkThrottledError), holding no intake: not an outage."""
    limited = answer(429, {"Content-Type": "text/plain"}, b"rate_limited")
    async with hostile(limited) as server:
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}{HOOK_PATH}"')
        try:
            with pytest.raises(SinkThrottledError) as waited:
                await e.escalate(incident(), T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
    assert waited.value.retry_after_s == 1.0  # TRIAGE_SLACK_MIN_INTERVAL_S, at least 1 s
    assert waited.value.pauses_intake is False


async def test_a_2xx_saying_ratelimited_is_a_wait_not_a_slack_outage(tmp_path: Path) -> None:
    """A 200 `{"ok": false, "error": "ratelimited"}` (a workflow webhook's way to say 429) is
    a wait too, with its Retry-After, as the Slack sink reads it: not a failure of Slack."""
    said = b'{"ok": false, "error": "ratelimited"}'
    limited = answer(200, {"Content-Type": "application/json", "Retry-After": "12"}, said)
    async with hostile(limited) as server:
        e = escalator(tmp_path, f'slack_webhook_url = "{server.url}{HOOK_PATH}"')
        try:
            with pytest.raises(SinkThrottledError) as waited:
                await e.escalate(incident(), T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
    assert waited.value.retry_after_s == 12.0


# --- the escalation's GitHub comment ------------------------------------------------------------


class _Issue:
    """GitHub's API for one issue (acme/ops#7) as an escalation uses it: labels taken, comments
    kept and listed (`comments` seeds what is there already), and `/user` naming triage's
    login. Records the query of each list of comments."""

    LOGIN = "triage-bot"

    def __init__(self, comments: list[dict[str, object]] | None = None) -> None:
        self.server: HostileServer | None = None
        self.comments = list(comments or [])
        self.listed: list[str] = []

    async def __call__(self, writer: asyncio.StreamWriter) -> None:
        assert self.server is not None
        method, target = self.server.requests[-1].head.split(b" ", 2)[:2]
        path, _, query = target.decode().partition("?")
        said: object
        if method == b"POST" and path.endswith("/comments"):
            body = json.loads(self.server.requests[-1].body)["body"]
            said = {"id": len(self.comments) + 1, "body": body, "user": {"login": self.LOGIN}}
            self.comments.append(said)
        elif method == b"GET" and path.endswith("/comments"):
            self.listed.append(query)
            said = self.comments
        elif method == b"GET" and path == "/user":
            said = {"login": self.LOGIN, "type": "User"}
        else:
            said = [{"name": "escalated"}]
        await answer(200, {"Content-Type": "application/json"}, json.dumps(said).encode())(writer)


async def escalate_on_issue(
    tmp_path: Path, github: _Issue, *episodes: Incident
) -> list[dict[str, object]]:
    """Escalate each of `episodes` (an incident as the sweep claims it) on acme/ops#7 served by
    `github`; the issue's comments after them."""
    async with hostile(github) as server:
        github.server = server
        e = escalator(tmp_path, 'github_label = "escalated"', api_url=server.url)
        try:
            for episode in episodes:
                await e.escalate(episode, T0 + timedelta(minutes=31))
        finally:
            await e.aclose()
    return github.comments


def on_issue(reopened_at: datetime | None = None) -> Incident:
    """The incident whose ticket is acme/ops#7, reopened at `reopened_at` (None: never)."""
    opened = incident({"github": "https://github.com/acme/ops/issues/7"})
    return dataclasses.replace(opened, reopened_at=reopened_at)


async def test_the_escalation_comment_ends_with_its_marker_and_looks_since_its_episode(
    tmp_path: Path,
) -> None:
    """The comment ends with the escalation's hidden marker on a line of its own, and the look
    for an earlier attempt's lists only comments since the incident opened (less GitHub's clock
    slack), not the issue's whole history."""
    github = _Issue()
    [comment] = await escalate_on_issue(tmp_path, github, on_issue())
    body = str(comment["body"])
    assert body.splitlines()[-1] == escalation_marker(on_issue())
    assert body.splitlines()[-1].startswith("<!-- triage:effect=escalation:")
    assert github.listed and all("since=2026-11-23T08%3A50%3A00Z" in q for q in github.listed)


async def test_a_marker_someone_else_wrote_does_not_stop_the_escalation_comment(
    tmp_path: Path,
) -> None:
    """A comment by another login holding the escalation's marker line (anyone who may comment
    can copy one) is not triage's: the escalation's comment still goes."""
    copied = {"id": 1, "body": f"me too\n{escalation_marker(on_issue())}", "user": {"login": "x"}}
    comments = await escalate_on_issue(tmp_path, _Issue([copied]), on_issue())
    assert len(comments) == 2 and comments[1]["user"] == {"login": _Issue.LOGIN}


async def test_a_reopened_incident_is_escalated_on_its_issue_again(tmp_path: Path) -> None:
    """The incident escalated, then reopened and past its escalation time again: the issue gets
    the second episode's comment (the marker names the episode, not only the incident)."""
    reopened = on_issue(reopened_at=T0 + timedelta(hours=2))
    comments = await escalate_on_issue(tmp_path, _Issue(), on_issue(), reopened)
    assert len(comments) == 2
    assert escalation_marker(on_issue()) != escalation_marker(reopened)
