"""The sinks (backend, GitHub, Slack) under faults and hostile answers, each against a loopback
HTTP server on 127.0.0.1 that answers as the service documents (or as a broken proxy in front
of it would): every case ends retried, held, given up or done, as the answer says, with no
second ticket, no credential sent elsewhere or logged, and one line saying why."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from factories import view
from github_stub import GitHubServer
from hostile_server import Answer, answer, endless, hostile
from test_github_later_life import LaterLifeGitHub
from triage.errors import (
    GitHubThrottledError,
    GitHubUnavailableError,
    SinkRejectedError,
    SinkThrottledError,
)
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect, Target
from triage.sinks.github import GitHubSink
from triage.sinks.slack import SlackSink
from triage.tls import client_context

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db replication lag",
    team="data",
    priority=Priority.CRITICAL,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "lag"},
)
TICKET = Ticket(title="Replication lag", priority=Priority.CRITICAL, description="lag 90 s")
Logs = list[MutableMapping[str, Any]]

BACKEND_TOKEN = "backend-secret-token-42"
#: The largest answer the tests' transports read: small, so "too large" is fast to send.
SMALL_BODY_BYTES = 4096


def effect(kind: EffectKind = EffectKind.OPEN, ref: str | None = None, key: str = "fp:1") -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, ref, 3, 2, False, key)


def events(logs: Logs, level: str | None = None) -> list[str]:
    return [e["event"] for e in logs if level is None or e["log_level"] == level]


def logged_text(logs: Logs) -> str:
    return repr(list(logs))


# --- The backend ---------------------------------------------------------------------------


@asynccontextmanager
async def backend_sink(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BackendSink]:
    monkeypatch.setenv("BACKEND_TOKEN", BACKEND_TOKEN)
    settings = Settings(
        backend_base_url=url,
        backend_update_route="/tickets/{ref}/events",
        backend_resolve_route="/tickets/{ref}/resolve",
    )
    transport = AiohttpTransport(client_context(), max_body_bytes=SMALL_BODY_BYTES)
    sink = BackendSink(settings, BackendToken(settings), transport=transport)
    try:
        yield sink
    finally:
        await sink.aclose()


def too_large(status: int, headers: dict[str, str] | None = None) -> Answer:
    """An answer whose body is larger than the sink reads (with a Content-Length)."""
    body = b'{"id": "OPS-1", "padding": "' + b"x" * (SMALL_BODY_BYTES * 4) + b'"}'
    return answer(status, {"Content-Type": "application/json", **(headers or {})}, body)


@pytest.mark.parametrize("make", [too_large, endless], ids=["content-length", "chunked"])
async def test_a_created_ticket_whose_answer_is_too_large_is_done_not_retried(
    make: Any, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """A 201 whose body is past what the sink reads still created the ticket, and the same
    key would be answered the same way again: the create is done (named by its Idempotency-Key,
    one `backend.no_ticket_id` warning saying the answer was not read), not retried into the
    DLQ with the ticket made and never recorded."""
    async with hostile(make(201)) as server, backend_sink(server.url, monkeypatch) as sink:
        applied = await sink.apply(effect())
    assert applied.ref == "fp:1"
    assert len(server.requests) == 1
    assert events(logs, "warning") == ["backend.no_ticket_id"]
    warning = next(e for e in logs if e["event"] == "backend.no_ticket_id")
    assert "unread" in warning["answer"] and "AnswerTooLarge" in warning["answer"]


async def test_a_wait_whose_answer_is_too_large_is_still_a_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 429 with Retry-After and a body past what the sink reads is still the backend's
    "wait 30 s" (intake pauses), not a network failure that retries at once."""
    async with (
        hostile(too_large(429, {"Retry-After": "30"})) as server,
        backend_sink(server.url, monkeypatch) as sink,
    ):
        with pytest.raises(SinkThrottledError) as caught:
            await sink.apply(effect())
    assert caught.value.retry_after_s == 30
    assert caught.value.pauses_intake


async def test_an_update_of_a_deleted_ticket_with_a_large_answer_is_skipped(
    monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """A 410 to an update (the ticket deleted) whose error page is past what the sink reads is
    still the ticket gone: skipped with one `backend.ticket_gone` warning, not a network
    failure retried until its message reaches the DLQ."""
    async with hostile(too_large(410)) as server, backend_sink(server.url, monkeypatch) as sink:
        applied = await sink.apply(effect(EffectKind.UPDATE, ref="OPS-1", key="fp:2"))
    assert applied.refused and applied.gone
    assert events(logs, "warning") == ["backend.ticket_gone"]


async def test_a_created_ticket_with_a_location_elsewhere_sends_nothing_there(
    monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    """A 201 without an id whose Location names another host is the ticket created: named by
    its key, and the other host receives nothing (neither our token nor a second request)."""
    async with hostile(answer(200, body=b"{}")) as elsewhere:
        created = answer(201, {"Location": f"{elsewhere.url}/tickets/OPS-9"}, b"")
        async with hostile(created) as server, backend_sink(server.url, monkeypatch) as sink:
            applied = await sink.apply(effect())
    assert applied.ref == "fp:1"
    assert len(server.requests) == 1
    assert elsewhere.requests == []
    assert BACKEND_TOKEN not in logged_text(logs)


# --- GitHub ----------------------------------------------------------------------------------

GITHUB_TOKEN = "ghp_faultsTestToken000000000000000000000"
REPO = "acme/ops"


class LabelRefusingGitHub(GitHubServer):
    """The stub, refusing to create an issue with a label it will not take, as GitHub answers
    it (422 `Validation Failed`, a `Label` `name` `invalid` error quoting the label)."""

    def __init__(self, refused: set[str], **kwargs: Any) -> None:
        self.refused = refused
        super().__init__(**kwargs)

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        for name in (body.get("labels") or []) if isinstance(body, dict) else []:
            if name in self.refused:
                error = {"value": name, "resource": "Label", "field": "name", "code": "invalid"}
                return 422, {"message": "Validation Failed", "errors": [error]}, {}
        return super()._create_issue(actor, params, query, body)


@asynccontextmanager
async def github_sink(url: str) -> AsyncIterator[GitHubSink]:
    settings = Settings(
        github_api_url=url, github_repository=REPO, github_token=SecretStr(GITHUB_TOKEN)
    )
    sink = GitHubSink(settings)
    try:
        yield sink
    finally:
        await sink.aclose()


@pytest.mark.parametrize("refused", ["team:data", "runbook-needed"])
async def test_a_label_github_refuses_does_not_refuse_the_issue(refused: str, logs: Logs) -> None:
    """A label GitHub will not take on a new issue (422 `Label` `name` `invalid`: the team's,
    from alert text, or a route's) no longer fails every incident of the route into the DLQ:
    the issue is created with triage's own labels (`triage`, which the marker look-up lists,
    and its priority), with one `github.labels_refused` warning that quotes no label; the
    effect retried finds that issue, never a second."""
    target = Target(labels=("runbook-needed",))
    opening = dataclasses.replace(effect(), target=target)
    with LabelRefusingGitHub({refused}, tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            first = await sink.apply(opening)
            again = await sink.apply(opening)
        issues = github.issues()
    assert first.ref == again.ref == f"{github.url}/{REPO}/issues/1"
    assert len(issues) == 1
    assert [label["name"] for label in issues[0]["labels"]] == ["triage", "priority:P0"]
    assert events(logs, "warning") == ["github.labels_refused"]
    warning = next(e for e in logs if e["event"] == "github.labels_refused")
    assert refused not in repr(warning)
    assert warning["labels_left_out"] == 3
    assert GITHUB_TOKEN not in logged_text(logs)


async def test_a_refusal_of_triages_own_labels_still_fails_the_open(logs: Logs) -> None:
    """When GitHub refuses even triage's own labels, the create is not tried a third time:
    the refusal fails the message (the DLQ shows it), as before."""
    with LabelRefusingGitHub({"triage"}, tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            with pytest.raises(SinkRejectedError, match="422"):
                await sink.apply(effect())
        creates = [c for c in github.calls if c["method"] == "POST"]
    assert len(creates) == 2
    assert github.issues() == []


#: GitHub's words for a limit that come without Retry-After or a spent budget: the secondary
#: limit's older name (GitHub Enterprise Server), and the primary limit behind a proxy that
#: drops the x-ratelimit-* headers.
LIMIT_MESSAGES = [
    "You have triggered an abuse detection mechanism and have been temporarily blocked from "
    "content creation. Please retry your request again later.",
    "You have triggered an abuse detection mechanism. Please wait a few minutes before you "
    "try again.",
    "API rate limit exceeded for installation ID 4242.",
]


@pytest.mark.parametrize("message", LIMIT_MESSAGES, ids=["abuse", "abuse-wait", "primary"])
@pytest.mark.parametrize("kind", [EffectKind.OPEN, EffectKind.UPDATE])
async def test_a_limit_in_githubs_other_words_pauses_the_sink(
    message: str, kind: EffectKind, logs: Logs
) -> None:
    """A 403 that says it is a rate limit in GitHub's other words, with no Retry-After and a
    budget not spent, is a limit all the same: the message is held for GitHub's minute and
    the sink paused (no call before it), not an open refused as a lack of access nor an
    update failed into the DLQ."""
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            ref = None
            if kind is not EffectKind.OPEN:
                ref = (await sink.apply(effect(key="fp:1"))).ref
            github.fail_next(1, 403, message=message, method="POST")
            with pytest.raises(GitHubThrottledError) as caught:
                await sink.apply(effect(kind, ref=ref, key="fp:2"))
            assert sink.paused_until() is not None
            calls = len(github.calls)
            with pytest.raises(GitHubThrottledError):
                await sink.apply(effect(kind, ref=ref, key="fp:3"))
            assert len(github.calls) == calls
    assert caught.value.retry_after_s == 60


@asynccontextmanager
async def small_reading_github_sink(url: str) -> AsyncIterator[GitHubSink]:
    """The github sink, reading answers of at most SMALL_BODY_BYTES."""
    settings = Settings(
        github_api_url=url, github_repository=REPO, github_token=SecretStr(GITHUB_TOKEN)
    )
    transport = AiohttpTransport(client_context(), max_body_bytes=SMALL_BODY_BYTES)
    sink = GitHubSink(settings, transport=transport)
    try:
        yield sink
    finally:
        await sink.aclose()


#: An error page past what the sink reads.
HUGE_PAGE = b"<html>" + b"x" * (SMALL_BODY_BYTES * 4) + b"</html>"


async def test_a_deleted_issue_whose_answer_is_too_large_is_still_gone(logs: Logs) -> None:
    """A 410 (the issue deleted) whose page is past what the sink reads is judged by its
    status: the update is skipped with one `github.issue_gone` warning and the ticket marked
    gone, not a network failure retried until its message reaches the DLQ."""
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with small_reading_github_sink(github.url) as sink:
            ref = (await sink.apply(effect())).ref
            github.fail_next(1, 410, body=HUGE_PAGE, path="/issues/1", method="GET")
            applied = await sink.apply(effect(EffectKind.UPDATE, ref=ref, key="fp:2"))
    assert applied.refused and applied.gone
    assert events(logs, "warning") == ["github.issue_gone"]
    gone = next(e for e in logs if e["event"] == "github.issue_gone")
    assert "unread" in gone["reason"]


async def test_a_limit_whose_answer_is_too_large_still_pauses_the_sink() -> None:
    """A secondary limit's 403 with Retry-After whose page is past what the sink reads is
    still GitHub's "wait 120 s": the message is held and the sink paused."""
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with small_reading_github_sink(github.url) as sink:
            github.fail_next(1, 403, body=HUGE_PAGE, retry_after="120", method="POST")
            with pytest.raises(GitHubThrottledError) as caught:
                await sink.apply(effect())
            assert sink.paused_until() is not None
    assert caught.value.retry_after_s == 120


async def test_a_created_issue_whose_answer_is_too_large_is_found_not_made_twice() -> None:
    """A 201 whose body is past what the sink reads created the issue, but names none we can
    keep: a bad answer (retried), and the retry finds the issue by its marker."""
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with small_reading_github_sink(github.url) as sink:
            github.fail_next(1, 201, body=HUGE_PAGE, method="POST")
            with pytest.raises(GitHubUnavailableError):
                await sink.apply(effect())
            # The stub's injected answer created nothing: create the issue as GitHub had.
            applied = await sink.apply(effect())
            again = await sink.apply(effect())
        assert applied.ref == again.ref
        assert len(github.issues()) == 1


@pytest.mark.parametrize(
    "body",
    [None, b"<html>502 Bad Gateway</html>", b'{"number": 1, "html_', [{"number": 1}], "issue"],
    ids=["empty", "html", "truncated", "list", "string"],
)
async def test_a_create_answered_2xx_without_an_issue_is_retried_not_a_crash(body: Any) -> None:
    """A 201 to a create whose body is no JSON object (empty, a proxy's page, JSON cut short,
    a list, a string) is GitHub (or what stands in front of it) being unwell: a transient
    `bad_response`, not an AttributeError out of the sink; the retry opens the issue once."""
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            github.fail_next(1, 201, body=body, method="POST", path="/issues")
            with pytest.raises(GitHubUnavailableError) as caught:
                await sink.apply(effect())
            assert caught.value.reason == "bad_response"
            assert (await sink.apply(effect())).ref == f"{github.url}/{REPO}/issues/1"
        assert len(github.issues()) == 1


class LabelDroppingGitHub(GitHubServer):
    """The stub, dropping every label of a new issue, as GitHub does for a token without push
    access to the repository ("Labels are silently dropped otherwise")."""

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        kept = {**body, "labels": []} if isinstance(body, dict) else body
        return super()._create_issue(actor, params, query, kept)


async def test_labels_github_drops_from_a_new_issue_are_said_once(logs: Logs) -> None:
    """A new issue GitHub created without its labels (the token may not label new issues)
    lacks `triage`, which the marker look-up lists, so a retried create could not find it:
    one `github.labels_dropped` warning per repository says so and what to fix, not one per
    issue, and the issue is still the incident's."""
    other = dataclasses.replace(effect(), fingerprint="0" * 32, idempotency_key="fp0:1")
    with LabelDroppingGitHub(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            first = await sink.apply(effect())
            second = await sink.apply(other)
    assert (first.ref, second.ref) == (
        f"{github.url}/{REPO}/issues/1",
        f"{github.url}/{REPO}/issues/2",
    )
    assert events(logs, "warning") == ["github.labels_dropped"]
    warning = next(e for e in logs if e["event"] == "github.labels_dropped")
    assert warning["repository"] == REPO
    assert "push" in warning["hint"]


# --- Slack -----------------------------------------------------------------------------------


@asynccontextmanager
async def slack_sink(url: str) -> AsyncIterator[SlackSink]:
    webhook = SecretStr(f"{url}/services/T1/B1/{SLACK_SECRET}")
    sink = SlackSink(Settings(slack_webhook_url=webhook, slack_min_interval_s=0))
    try:
        yield sink
    finally:
        await sink.aclose()


SLACK_SECRET = "slackWebhookSecret0042"
JSON = {"Content-Type": "application/json"}


def slack_json(status: int, error: str) -> Answer:
    """Slack's refusal written as its Web API and workflow webhooks write it, at `status`."""
    return answer(status, JSON, b'{"ok": false, "error": "%s"}' % error.encode())


async def test_a_gone_channel_said_in_json_at_a_4xx_skips_the_post(logs: Logs) -> None:
    """A 404 whose body is Slack's JSON refusal (`{"ok": false, "error":
    "channel_not_found"}`) is the channel gone, as the plain-text `channel_not_found` is:
    skipped with one `slack.refused` warning naming the code, not a new incident failed into
    the DLQ as "no error code"."""
    async with (
        hostile(slack_json(404, "channel_not_found")) as server,
        slack_sink(server.url) as sink,
    ):
        applied = await sink.apply(effect())
    assert (applied.skipped, applied.refused) == ("slack refused: channel_not_found", True)
    assert events(logs, "warning") == ["slack.refused"]
    assert SLACK_SECRET not in logged_text(logs)


async def test_refused_blocks_said_in_json_at_a_4xx_are_posted_as_plain_text(logs: Logs) -> None:
    """A 400 whose JSON body says `invalid_blocks` gets the new incident posted again as plain
    text (one `slack.blocks_refused` warning), as the plain-text code does."""
    async with (
        hostile(slack_json(400, "invalid_blocks"), answer(200, {}, b"ok")) as server,
        slack_sink(server.url) as sink,
    ):
        applied = await sink.apply(effect())
    assert applied.ref == "posted"
    assert len(server.requests) == 2
    assert events(logs, "warning") == ["slack.blocks_refused"]


async def test_another_refusal_said_in_json_at_a_4xx_names_its_code() -> None:
    """Any other JSON refusal at a 4xx fails the new incident's message naming Slack's code;
    a JSON `error` that is no code (text quoting the post) is named by size and type."""
    async with (
        hostile(slack_json(400, "invalid_payload")) as server,
        slack_sink(server.url) as sink,
    ):
        with pytest.raises(SinkRejectedError, match="400: invalid_payload"):
            await sink.apply(effect())
    async with (
        hostile(slack_json(400, "ECHO orders-db replication lag")) as server,
        slack_sink(server.url) as sink,
    ):
        with pytest.raises(SinkRejectedError, match="no error code") as caught:
            await sink.apply(effect())
    assert "ECHO" not in str(caught.value)


async def test_an_issue_moved_to_an_archived_repository_blocks_only_that_repository(
    logs: Logs,
) -> None:
    """An issue transferred to a repository that was then archived: the update's write there
    is refused as read-only, so the effect is skipped (one `github.issue_read_only` warning
    naming where the issue is now, the ticket gone, its new reference kept), and it is that
    repository that is remembered as read-only, never the route's own: the route's next new
    incident still gets its issue."""
    with LaterLifeGitHub(
        tokens={GITHUB_TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")
    ) as github:
        async with github_sink(github.url) as sink:
            ref = (await sink.apply(effect())).ref
            github.transfer(1, "acme/new")
            github.archived.add("acme/new")
            applied = await sink.apply(effect(EffectKind.UPDATE, ref=ref, key="fp:2"))
            other = dataclasses.replace(effect(), fingerprint="0" * 32, idempotency_key="o:1")
            opened = await sink.apply(other)
    assert applied.refused and applied.gone
    assert applied.ref == f"{github.url}/acme/new/issues/1"
    assert opened.ref == f"{github.url}/{REPO}/issues/2"
    refused = [e for e in logs if e["event"] == "github.issue_read_only"]
    assert [e["repository"] for e in refused] == ["acme/new"]


async def test_a_refire_of_an_issue_moved_to_an_archived_repository_opens_a_new_issue(
    logs: Logs,
) -> None:
    """A re-fire whose issue was transferred to a repository since archived opens a new issue
    where the route puts them (the route's repository is not archived), with one
    `github.issue_read_only` warning naming the archived one."""
    with LaterLifeGitHub(
        tokens={GITHUB_TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")
    ) as github:
        async with github_sink(github.url) as sink:
            ref = (await sink.apply(effect())).ref
            await sink.apply(effect(EffectKind.CLOSE, ref=ref, key="fp:2"))
            github.transfer(1, "acme/new")
            github.archived.add("acme/new")
            applied = await sink.apply(effect(EffectKind.REOPEN, ref=ref, key="fp:3"))
    assert applied.ref == f"{github.url}/{REPO}/issues/2"
    refused = [e for e in logs if e["event"] == "github.issue_read_only"]
    assert [e["repository"] for e in refused] == ["acme/new"]


async def test_a_backend_probe_answered_with_a_large_body_still_reaches_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The probe asks whether the backend answers (OPTIONS below 500): an answer with a body
    past what the sink reads is an answer, so the breaker can close, and `triage check`'s
    route probe reads its status the same way."""
    async with hostile(too_large(200)) as server, backend_sink(server.url, monkeypatch) as sink:
        assert "answered HTTP 200" in await sink.probe()
        assert await sink.probe_route("/tickets/{ref}/events") == 200


class LabelCreationRefusingGitHub(GitHubServer):
    """The stub, where a new issue may carry only labels the repository has: one it lacks
    would have to be created, which the token may not do (403, as GitHub answers it)."""

    def __init__(self, existing: set[str], **kwargs: Any) -> None:
        self.existing = existing
        super().__init__(**kwargs)

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        labels = (body.get("labels") or []) if isinstance(body, dict) else []
        if set(labels) - self.existing:
            error = {"resource": "Repository", "field": "label", "code": "unauthorized"}
            message = "You do not have permission to create labels on this repository."
            return 403, {"message": message, "errors": [error]}, {}
        return super()._create_issue(actor, params, query, body)


async def test_a_label_the_token_may_not_create_does_not_refuse_the_issue(logs: Logs) -> None:
    """A new team's label the repository lacks and the token may not create (403 "You do not
    have permission to create labels") is no lack of access to the repository (which would
    open the breaker, or send the route's messages to the DLQ): the issue is created with
    triage's own labels, which the repository has, with one `github.labels_refused` warning."""
    existing = {"triage", "priority:P0"}
    with LabelCreationRefusingGitHub(existing, tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            applied = await sink.apply(effect())
        issues = github.issues()
    assert applied.ref == f"{github.url}/{REPO}/issues/1"
    assert [label["name"] for label in issues[0]["labels"]] == ["triage", "priority:P0"]
    assert events(logs, "warning") == ["github.labels_refused"]


@pytest.mark.parametrize("minutes_later", [1, 20], ids=["remembered", "asked-again"])
async def test_a_later_refire_of_an_issue_in_an_archived_repository_elsewhere_opens_one(
    minutes_later: float, logs: Logs
) -> None:
    """After an effect followed the issue to the repository it moved to, since archived (the
    incident keeps that reference), a re-fire still opens a new issue where the route puts
    them, whether the archive is still remembered or GitHub is asked again: an archived
    repository's issue stays there, but the route's repository is not archived."""
    mono = [5000.0]
    with LaterLifeGitHub(
        tokens={GITHUB_TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")
    ) as github:
        settings = Settings(
            github_api_url=github.url,
            github_repository=REPO,
            github_token=SecretStr(GITHUB_TOKEN),
        )
        sink = GitHubSink(settings, clock=lambda: mono[0])
        try:
            ref = (await sink.apply(effect())).ref
            await sink.apply(effect(EffectKind.CLOSE, ref=ref, key="fp:2"))
            github.transfer(1, "acme/new")
            github.archived.add("acme/new")
            moved = (await sink.apply(effect(EffectKind.UPDATE, ref=ref, key="fp:3"))).ref
            mono[0] += minutes_later * 60
            applied = await sink.apply(effect(EffectKind.REOPEN, ref=moved, key="fp:4"))
        finally:
            await sink.aclose()
    assert moved == f"{github.url}/acme/new/issues/1"
    assert applied.ref == f"{github.url}/{REPO}/issues/2"
    assert len(github.issues()) == 2
