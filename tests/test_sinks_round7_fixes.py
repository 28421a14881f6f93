"""Round 7 fixes in the sinks: a 2xx answered with a web page (an SSO or egress proxy's sign-in
or block page, a web app answering for the URL) is no answer of the service's, whichever call
it answers. The backend's update and reopen, Slack's post (judged by its body, which Slack's
own `ok` labels text/html) and GitHub's calls whose answer the sink does not read (a close,
a label) fail as transient, so their retry reaches the service, instead of being counted as
done. Each is the real code over real HTTP to a loopback server on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace

import httpx2
import pytest
from pydantic import SecretStr

from github_stub import GitHubServer
from hostile_server import Answer, answer, hostile
from test_github_sink import BOT_TOKEN, REPO, RESOLVED, FakeClock, open_sink
from test_github_sink import effect as github_effect
from test_redteam_round6_sinks import backend_at, effect, json_answer, paths, slack_at
from triage.errors import GitHubUnavailableError, SinkUnavailableError, SinkUnreachableError
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.base import Target
from triage.sinks.github.api import GitHubApi
from triage.sinks.slack import SlackSink, is_web_page

#: A sign-in page, as an SSO or egress proxy answers for a route it holds back.
SIGN_IN_PAGE = (
    b"<!doctype html><html><head><title>Sign in</title></head>"
    b"<body><form action=/login>Sign in to continue</form></body></html>"
)
HTML = {"Content-Type": "text/html; charset=utf-8"}


# --- the ticket backend ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", "round7-fixes-token")


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.REOPEN])
async def test_a_later_effect_answered_with_a_web_page_is_not_done(kind: EffectKind) -> None:
    """An update or reopen answered 200 with a sign-in page reached no ticket backend: it
    fails as transient (`bad_response`), so its retry reaches the ticket."""
    async with hostile(answer(200, HTML, SIGN_IN_PAGE)) as server, backend_at(server.url) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect(kind, "T-7", key="fp:2"))
    assert caught.value.reason == "bad_response"
    assert paths(server) == ["/api/service/tickets/T-7/updates"]


async def test_a_resolve_answered_with_markup_of_no_declared_type_is_not_done() -> None:
    """A resolve answered 200 with a page whose type is unnamed (a proxy that labels nothing)
    is told by its first character, `<`: not done, retried."""
    page = answer(200, {"Content-Type": "application/octet-stream"}, b"\n  " + SIGN_IN_PAGE)
    async with hostile(page) as server, backend_at(server.url) as sink:
        with pytest.raises(SinkUnavailableError):
            await sink.apply(effect(EffectKind.CLOSE, "T-7", key="fp:3"))


@pytest.mark.parametrize(
    "done",
    [answer(204), json_answer(200, {"id": "T-7", "status": "resolved"})],
    ids=["204-empty", "200-json"],
)
async def test_a_resolve_answered_by_the_api_is_still_done(done: Answer) -> None:
    """A resolve answered as an API answers (204 without a body, or JSON) is done: only a web
    page is refused."""
    async with hostile(done) as server, backend_at(server.url) as sink:
        applied = await sink.apply(effect(EffectKind.CLOSE, "T-7", key="fp:3"))
    assert applied.skipped is None


# --- Slack ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "page"),
    [
        (b"ok", False),
        (b'{"ok": true}', False),
        (b"", False),
        (SIGN_IN_PAGE, True),
        (b"\xef\xbb\xbf \r\n<html><body>Blocked by policy</body></html>", True),
        (b'<?xml version="1.0"?><error>denied</error>', True),
    ],
    ids=["ok", "json-ok", "empty", "html", "bom-and-space-then-html", "xml"],
)
def test_is_web_page_judges_the_body_not_its_type(body: bytes, page: bool) -> None:
    """`is_web_page` is the body's first character `<` (after a BOM and white space), whatever
    the Content-Type: Slack's incoming webhook labels its `ok` text/html."""
    response = httpx2.Response(200, headers=HTML, content=body)
    assert is_web_page(response) is page


async def test_slacks_ok_labelled_text_html_is_posted() -> None:
    """Slack's incoming webhook answers `ok` as text/html: that is Slack's success, posted."""
    async with hostile(answer(200, HTML, b"ok")) as server, slack_at(server) as sink:
        applied = await sink.apply(effect(EffectKind.OPEN))
    assert applied.ref == "posted"


async def test_a_post_answered_with_a_page_labelled_plain_text_is_not_posted() -> None:
    """A 200 page labelled text/plain (or anything else) is still a page by its body: the post
    fails as transient with its size and type told, never its text."""
    labelled = answer(200, {"Content-Type": "text/plain"}, SIGN_IN_PAGE)
    async with hostile(labelled) as server, slack_at(server) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect(EffectKind.OPEN))
    assert caught.value.reason == "bad_response"
    assert "Sign in" not in str(caught.value)
    assert f"{len(SIGN_IN_PAGE)} bytes of text/plain" in str(caught.value)


async def test_a_web_page_at_one_routes_webhook_while_others_post_is_that_routes() -> None:
    """A route whose webhook_url is a web app's page, while the default webhook posts, fails
    as that URL's alone (SinkUnreachableError, not counted against Slack's breaker), as its
    redirect would: the other routes' posts go on."""
    async with hostile(answer(200, HTML, b"ok"), answer(200, HTML, SIGN_IN_PAGE)) as server:
        webhook = f"{server.url}/services/T000/B000/round7secretpath"
        sink = SlackSink(Settings(slack_webhook_url=SecretStr(webhook), slack_min_interval_s=0.0))
        try:
            await sink.apply(effect(EffectKind.OPEN))
            page_route = Target(webhook_url=f"{server.url}/app/dashboard")
            with pytest.raises(SinkUnreachableError):
                await sink.apply(replace(effect(EffectKind.OPEN), target=page_route))
        finally:
            await sink.aclose()


# --- GitHub -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/repos/acme/ops/issues/7", {"state": "closed", "state_reason": "completed"}),
        ("POST", "/repos/acme/ops/issues/7/labels", {"labels": ["triage"]}),
        ("DELETE", "/repos/acme/ops/issues/7/labels/flapping", None),
    ],
    ids=["close", "add-label", "remove-label"],
)
async def test_a_github_call_answered_with_a_web_page_is_not_done(
    method: str, path: str, body: object
) -> None:
    """A call whose answer the sink does not read (closing an issue, adding or taking off a
    label) answered 200 with a proxy's sign-in page reached no GitHub: GitHubUnavailableError
    `bad_response` (retried), instead of the issue being counted closed when it is open."""
    async with hostile(answer(200, HTML, SIGN_IN_PAGE)) as server:
        settings = Settings(github_api_url=server.url, github_token=SecretStr("ghp_" + "a" * 36))
        api = GitHubApi(settings)
        try:
            with pytest.raises(GitHubUnavailableError) as caught:
                await api.call(method, path, json=body)
        finally:
            await api.aclose()
    assert caught.value.reason == "bad_response"
    assert "Sign in" not in str(caught.value)


async def test_a_github_call_answered_204_is_still_done() -> None:
    """GitHub's 204 without a body (a lock, a label removal by some proxies) is done: only a
    web page is refused."""
    async with hostile(answer(204)) as server:
        settings = Settings(github_api_url=server.url, github_token=SecretStr("ghp_" + "a" * 36))
        api = GitHubApi(settings)
        try:
            assert await api.call("PUT", "/repos/acme/ops/issues/7/lock") is None
        finally:
            await api.aclose()


async def test_a_close_answered_with_a_web_page_leaves_the_issue_to_its_retry() -> None:
    """The GitHub sink's close whose PATCH is answered 200 with a sign-in page (labelled JSON,
    as a proxy may) fails as transient, and its retry closes the issue with one close comment:
    the incident is not resolved here while its issue stays open on GitHub."""
    wall = FakeClock(1_800_000_000.0)
    server = GitHubServer(tokens={BOT_TOKEN: "triage-bot"}, repositories=(REPO,), clock=wall)
    with server:
        async with open_sink(server, FakeClock(5_000.0), wall) as sink:
            ref = (await sink.apply(github_effect())).ref
            assert ref is not None
            close = github_effect(EffectKind.CLOSE, ref, "fp:4", alert=RESOLVED)
            server.fail_next(1, 200, method="PATCH", path="/issues/", body=SIGN_IN_PAGE)
            with pytest.raises(SinkUnavailableError) as caught:
                await sink.apply(close)
            assert caught.value.reason == "bad_response"
            [issue] = server.issues()
            assert issue["state"] == "open"
            await sink.apply(close)
    [issue] = server.issues()
    assert issue["state"] == "closed"
    assert len(issue["comment_bodies"]) == 1, issue["comment_bodies"]
