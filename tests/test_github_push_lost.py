"""A token that loses push access while a process runs: GitHub starts dropping a new issue's
labels after this process saw it keep them. The look-up must not go on trusting the labels
where an unlabelled issue of ours may sit: a create whose answer was lost, another replica's
create, or a label add GitHub refuses each send it back to the issues triage created. Against
a loopback GitHub stub whose answers change mid-test."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from github_stub import GitHubServer
from test_github_lookup_more import REPO, TOKEN, incident, lists
from triage.errors import GitHubUnavailableError
from triage.models import EffectKind
from triage.settings import Settings
from triage.sinks.base import Effect
from triage.sinks.github import GitHubSink
from triage.sinks.github.lookup import LABELS_KEPT_S

Logs = list[MutableMapping[str, Any]]


class PushLosingGitHub(GitHubServer):
    """The stub, keeping a new issue's labels until `lose_push()`; from then on it drops them
    (GitHub: "Labels are silently dropped otherwise") and refuses a label added to an issue
    (403), as for a token without push access. `lose_answers` creates are made, then answered
    502 (a proxy lost the answer)."""

    push = True
    lose_answers = 0

    def lose_push(self) -> None:
        with self._lock:
            self.push = False

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        if not self.push and isinstance(body, dict):
            body = {**body, "labels": []}
        answer = super()._create_issue(actor, params, query, body)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return 502, {"message": "Bad Gateway"}, {}
        return answer

    def _add_labels(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        if not self.push:
            return 403, {"message": "Resource not accessible by personal access token"}, {}
        return super()._add_labels(actor, params, query, body)


class Clock:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def github_sink(url: str, clock: Clock | None = None) -> AsyncIterator[GitHubSink]:
    settings = Settings(github_api_url=url, github_repository=REPO, github_token=SecretStr(TOKEN))
    sink = GitHubSink(settings, clock=clock or Clock())
    try:
        yield sink
    finally:
        await sink.aclose()


def reopen(n: int, ref: str) -> Effect:
    """A flapping REOPEN of the n-th incident's issue `ref` (it adds the `flapping` label)."""
    opened = incident(n)
    return Effect(
        EffectKind.REOPEN,
        opened.fingerprint,
        opened.alert,
        opened.ticket,
        ref,
        3,
        1,
        True,
        f"k{n}:2",
    )


async def test_a_lost_create_after_push_was_lost_is_found_not_made_twice() -> None:
    """This process saw GitHub keep the labels, then the token lost push access and a create
    went through unlabelled with its answer lost: the retry lists the issues triage created
    and finds that issue, instead of missing it in the `triage` list and opening a second."""
    with PushLosingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            await sink.apply(incident(1))
            github.lose_push()
            github.lose_answers = 1
            with pytest.raises(GitHubUnavailableError):
                await sink.apply(incident(2))
            again = await sink.apply(incident(2))
        issues = github.issues()
    assert again.ref == f"{github.url}/{REPO}/issues/2"
    assert len(issues) == 2
    assert lists(github) == ["creator=triage-bot", "labels=triage", "creator=triage-bot"]


async def test_another_replicas_unlabelled_issue_is_found_once_the_belief_is_old() -> None:
    """A replica that saw the labels kept, longer ago than LABELS_KEPT_S, looks up by creator
    again: the issue another replica opened after push was lost (unlabelled, its bookkeeping
    lost) is found, not opened a second time."""
    clock = Clock()
    with PushLosingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url, clock) as one:
            await one.apply(incident(1))
            github.lose_push()
            async with github_sink(github.url) as two:
                made = await two.apply(incident(2))
            clock.now += LABELS_KEPT_S
            again = await one.apply(incident(2))
        issues = github.issues()
    assert again.ref == made.ref == f"{github.url}/{REPO}/issues/2"
    assert len(issues) == 2
    assert [label["name"] for label in issues[1]["labels"]] == []


async def test_a_fresh_belief_lists_by_label() -> None:
    """Within LABELS_KEPT_S of a create that kept its labels, a new incident's look-up is the
    `triage` list (one call, as before)."""
    clock = Clock()
    with PushLosingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url, clock) as sink:
            await sink.apply(incident(1))
            clock.now += LABELS_KEPT_S - 1
            await sink.apply(incident(2))
    assert lists(github) == ["creator=triage-bot", "labels=triage"]


async def test_a_label_add_refused_sends_the_look_up_back_to_the_creator(logs: Logs) -> None:
    """A label GitHub refuses to add to triage's issue (403: the token lost push access) says
    the labels may no longer be kept: the next look-up lists the issues triage created, and
    one warning says why."""
    with PushLosingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as sink:
            first = await sink.apply(incident(1))
            assert first.ref is not None
            github.lose_push()
            await sink.apply(reopen(1, first.ref))
            await sink.apply(incident(2))
    assert lists(github) == ["creator=triage-bot", "creator=triage-bot"]
    said = [e for e in logs if e["event"] == "github.label_refused"]
    assert len(said) == 1 and said[0]["log_level"] == "warning"


async def test_a_duplicate_made_on_a_fresh_belief_is_closed_for_the_older_issue(
    logs: Logs,
) -> None:
    """Within LABELS_KEPT_S of a labelled create, another replica opened an incident's issue
    unlabelled (push lost; its bookkeeping lost) and the message is retried here: the `triage`
    list misses it and a second issue is made. That create shows the labels dropped, so the
    issues triage created are read for an older one with the marker: found, the new one is
    closed with a comment naming it, and the incident keeps the older: one open issue."""
    with PushLosingGitHub(tokens={TOKEN: "triage-bot"}) as github:
        async with github_sink(github.url) as one:
            await one.apply(incident(1))
            github.lose_push()
            async with github_sink(github.url) as two:
                made = await two.apply(incident(2))
            again = await one.apply(incident(2))
        issues = github.issues()
    assert again.ref == made.ref == f"{github.url}/{REPO}/issues/2"
    assert [i["state"] for i in issues] == ["open", "open", "closed"]
    assert issues[2]["state_reason"] == "not_planned"
    assert "#2" in issues[2]["comment_bodies"][0]
    said = [e for e in logs if e["event"] == "github.duplicate_closed"]
    assert len(said) == 1 and (said[0]["issue"], said[0]["kept"]) == (3, 2)
