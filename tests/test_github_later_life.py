"""The github sink against what people and GitHub do to an issue after triage opened it
(locked, deleted, transferred, the repository archived or renamed), over real HTTP to a
loopback stand-in that answers as GitHub's REST API documents."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factories import T0, alert, view
from github_stub import Answer, GitHubServer
from memory_store import MemoryStore
from triage.errors import GitHubUnavailableError, SinkRejectedError
from triage.incidents import Ledger, Policy
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks.base import Applied, Effect, NotSent, Target
from triage.sinks.github import GitHubSink

TOKEN = "t-bot"
REPO = "acme/ops"
ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db backup failed",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "backup"},
)
TICKET = Ticket(title="Backup failed", priority=Priority.HIGH, description="pg_dump exited 1")

#: GitHub's own words for the refusals (its REST API's error `message`).
LOCKED = "Unable to create comment because issue is locked."
ARCHIVED = "Repository was archived so is read-only."
DELETED = "This issue was deleted"


class LaterLifeGitHub(GitHubServer):
    """The stub, plus what can happen to an issue after it was opened, answered as GitHub
    does: a deleted issue is 410 Gone; a transferred issue (or one of a renamed repository)
    answers its old path with 301 to `/repositories/{id}/issues/{n}` (GET) and 307 for other
    methods on a renamed repository; a locked issue refuses comments with 403; an archived
    repository refuses every write with 403."""

    def __init__(self, **kwargs: Any) -> None:
        self.deleted: set[tuple[str, int]] = set()
        self.locked: set[tuple[str, int]] = set()
        #: Repositories our token may read but not write (an App not installed on them).
        self.read_only: set[str] = set()
        #: (repository, number) → (repository id, new number) for moved issues.
        self.moved: dict[tuple[str, int], tuple[int, int]] = {}
        #: Issues GitHub will not reopen for triage (a maintainer closed them, triage is only
        #: their author; or converted to a discussion): 422 "Validation Failed".
        self.unreopenable: set[tuple[str, int]] = set()
        #: Labels the repository has, when set: adding another to an issue needs the right to
        #: create it, which our token lacks (403, as GitHub answers a token without it).
        self.labels: set[str] | None = None
        #: Who may be assigned (None: anyone); GitHub refuses others with 422.
        self.assignable: set[str] | None = None
        super().__init__(**kwargs)

    def delete_comment(self, comment_id: int, *, repo: str = REPO) -> None:
        """A person deletes comment `comment_id` (a digest entry): it is found no more."""
        with self._lock:
            for issue in self._repos[repo]:
                issue.comments[:] = [c for c in issue.comments if c["id"] != comment_id]

    def transfer(self, number: int, to: str, *, repo: str = REPO) -> int:
        """Move issue `number` of `repo` to `to` (as a new issue there); its new number."""
        with self._lock:
            old = self._repos[repo][number - 1]
            moved = type(old)(**{**vars_of(old), "number": len(self._repos[to]) + 1})
            self._repos[to].append(moved)
            repo_id = self._repo_id(to)
            self.moved[(repo, number)] = (repo_id, moved.number)
            return moved.number

    def rename(self, old: str, new: str) -> None:
        """Rename repository `old` to `new`: its issues move with it, keep their numbers."""
        with self._lock:
            self._repos[new] = self._repos.pop(old)
            repo_id = self._repo_id(old)
            self.ids[repo_id] = new
            for issue in self._repos[new]:
                self.moved[(old, issue.number)] = (repo_id, issue.number)

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        """GitHub's 422 for an assignee who cannot be assigned (no access, left the org)."""
        for login in (body.get("assignees") or []) if isinstance(body, dict) else []:
            if self.assignable is not None and login not in self.assignable:
                error = {
                    "value": login,
                    "resource": "Issue",
                    "field": "assignees",
                    "code": "invalid",
                }
                return 422, {"message": "Validation Failed", "errors": [error]}, {}
        return super()._create_issue(actor, params, query, body)

    def _render(self, repo: str, issue: Any) -> dict[str, Any]:
        """GitHub says whether an issue is locked."""
        return {**super()._render(repo, issue), "locked": (repo, issue.number) in self.locked}

    def _list_issues(
        self, actor: str, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        """GitHub lists no deleted issue, nor one transferred away."""
        status, issues, headers = super()._list_issues(actor, params, query, body)
        gone = self.deleted | self.moved.keys()
        kept = [i for i in issues if (params["repo"], i["number"]) not in gone]
        return status, kept, headers

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Answer:
        found = re.fullmatch(r"/repositories/(\d+)(/.*)", path)
        if found and int(found[1]) in self.ids:  # where a redirect sends us
            path = f"/repos/{self.ids[int(found[1])]}{found[2]}"
        issue = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)(/.*)?", path)
        if issue:
            key, rest = (issue[1], int(issue[2])), issue[3] or ""
            if key in self.moved:
                repo_id, number = self.moved[key]
                renamed = self.ids[repo_id] != key[0] and key[0] not in self._repos
                status = 307 if renamed and method != "GET" else 301
                where = f"{self.url}/repositories/{repo_id}/issues/{number}{rest}"
                return status, {"message": "Moved Permanently", "url": where}, {"Location": where}
            if key in self.deleted:
                return 410, {"message": DELETED}, {}
            if key in self.locked and method == "POST" and rest == "/comments":
                return 403, {"message": LOCKED}, {}
            adding = method == "POST" and rest == "/labels" and isinstance(body, dict)
            if adding and self.labels is not None and set(body.get("labels", [])) - self.labels:
                return 403, {"message": "Must have admin rights to Repository."}, {}
            reopen = method == "PATCH" and isinstance(body, dict) and body.get("state") == "open"
            if key in self.unreopenable and not rest and reopen:
                return 422, {"message": "Validation Failed", "errors": []}, {}
        repo = re.match(r"/repos/([^/]+/[^/]+)", path)
        if repo and repo[1] in self.archived and method != "GET":
            return 403, {"message": ARCHIVED}, {}
        if repo and repo[1] in self.read_only and method != "GET":
            return 403, {"message": "Resource not accessible by integration"}, {}
        return super()._route(method, path, query, headers, body)


def vars_of(issue: Any) -> dict[str, Any]:
    """A stub issue's fields (it is a slotted dataclass), copied."""
    return {name: getattr(issue, name) for name in issue.__slots__}


def effect(kind: EffectKind, ref: str | None, key: str) -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, ref, 3, 2, False, key, Target())


@pytest.fixture
def github() -> Iterator[LaterLifeGitHub]:
    with LaterLifeGitHub(tokens={TOKEN: "triage-bot"}, repositories=(REPO, "acme/new")) as server:
        yield server


@pytest.fixture
async def sink(github: LaterLifeGitHub) -> AsyncIterator[GitHubSink]:
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
    s = GitHubSink(settings)
    try:
        yield s
    finally:
        await s.aclose()


async def opened(sink: GitHubSink) -> str:
    ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
    assert ref is not None
    return ref


def warnings(logs: list[MutableMapping[str, Any]]) -> list[str]:
    return [e["event"] for e in logs if e["log_level"] == "warning"]


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE])
async def test_a_deleted_issue_ends_the_effect_with_one_warning(
    sink: GitHubSink,
    github: LaterLifeGitHub,
    logs: list[MutableMapping[str, Any]],
    kind: EffectKind,
) -> None:
    """An update or close of an issue someone deleted (410) is skipped with one
    `github.issue_gone` warning, not a rejection that sends every later message to the DLQ."""
    ref = await opened(sink)
    github.deleted.add((REPO, 1))
    applied = await sink.apply(effect(kind, ref, "fp:2"))
    assert (applied.skipped, applied.why) == ("issue gone (410)", NotSent.REFUSED)
    assert warnings(logs) == ["github.issue_gone"]


async def test_a_refire_of_a_deleted_issue_opens_one_new_issue(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """A reopen whose issue was deleted opens a new issue (labelled `flapping` when it flaps)
    and hands back its reference; the same effect retried (its answer lost) finds that issue
    by its marker: never a second."""
    ref = await opened(sink)
    github.deleted.add((REPO, 1))
    refire = dataclasses.replace(effect(EffectKind.REOPEN, ref, "fp:5"), flapping=True)
    first = await sink.apply(refire)
    again = await sink.apply(refire)
    assert first.ref == again.ref == f"{github.url}/{REPO}/issues/2"
    assert len(github.issues()) == 2
    assert "flapping" in [label["name"] for label in github.issues()[1]["labels"]]


async def test_a_locked_issue_is_still_closed_without_its_comment(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A close of a locked issue (comments refused with 403) still closes it, without its
    comment; an update, which is only a comment, is skipped: one `github.issue_locked`
    warning for the issue."""
    ref = await opened(sink)
    github.locked.add((REPO, 1))
    update = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert (update.skipped, update.why) == ("issue locked", NotSent.REFUSED)
    assert await sink.apply(effect(EffectKind.CLOSE, ref, "fp:3")) == Applied()
    [issue] = github.issues()
    assert (issue["state"], issue["comment_bodies"]) == ("closed", [])
    assert warnings(logs) == ["github.issue_locked"]


@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.CLOSE, EffectKind.REOPEN])
async def test_an_archived_repository_ends_the_effect_with_one_warning(
    sink: GitHubSink,
    github: LaterLifeGitHub,
    logs: list[MutableMapping[str, Any]],
    kind: EffectKind,
) -> None:
    """Every write to an archived repository is refused (403): the effect is skipped with
    one `github.issue_read_only` warning instead of failing its message for good."""
    ref = await opened(sink)
    github.archived.add(REPO)
    applied = await sink.apply(effect(kind, ref, "fp:2"))
    assert (applied.skipped, applied.why) == ("issue read only (403)", NotSent.REFUSED)
    assert warnings(logs) == ["github.issue_read_only"]


async def test_a_transferred_issue_is_followed_and_its_new_reference_kept(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """An issue transferred to another repository (its old path answers 301) gets the
    update where it is now, and the effect hands back the new reference for later ones."""
    ref = await opened(sink)
    number = github.transfer(1, "acme/new")
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert applied.ref == f"{github.url}/acme/new/issues/{number}"
    [moved] = github.issues("acme/new")
    assert len(moved["comment_bodies"]) == 1
    assert await sink.apply(effect(EffectKind.CLOSE, applied.ref, "fp:3")) == Applied()
    assert github.issues("acme/new")[0]["state"] == "closed"


async def test_a_renamed_repository_is_followed_and_its_new_reference_kept(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """After the repository is renamed, a close reads the issue through GET's 301, closes it
    under the new name and hands back the new reference."""
    ref = await opened(sink)
    github.rename(REPO, "acme/renamed")
    applied = await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2"))
    assert applied.ref == f"{github.url}/acme/renamed/issues/1"
    assert github.issues("acme/renamed")[0]["state"] == "closed"


async def test_a_request_github_finds_wrong_is_still_rejected(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """Only refusals about the issue end an effect quietly: a request GitHub finds wrong (422
    that names no lock) still fails the effect for good."""
    ref = await opened(sink)
    github.fail_next(1, 422, message="Validation Failed", method="POST")
    with pytest.raises(SinkRejectedError, match="422"):
        await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))


async def test_a_write_refused_for_want_of_permission_waits(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """A 403 for a missing permission in the route's repository (no rate limit, no archive,
    no lock: the token lost write access) is our access, not the issue: the effect is not
    ended quietly, and its message waits (`no_access`, as a refused create does) instead of
    going to the DLQ with the incident's update lost."""
    ref = await opened(sink)
    github.fail_next(1, 403, message="Resource not accessible by integration", method="POST")
    with pytest.raises(GitHubUnavailableError, match="403") as refused:
        await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert refused.value.reason == "no_access"


async def test_an_assignee_github_refuses_does_not_refuse_the_issue(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A route's assignee who left the organisation (422 `assignees` `invalid` on create) no
    longer refuses every issue of the route: it is created without assignees, one warning."""
    github.assignable = {"alice"}
    target = Target(assignees=("bob",))
    opening = Effect(
        EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, "fp:1", target
    )
    assert (await sink.apply(opening)).ref == f"{github.url}/{REPO}/issues/1"
    assert github.issues()[0]["assignees"] == []
    assert warnings(logs) == ["github.assignees_refused"]


class Summariser:
    async def summarise(self, alert: Any) -> Ticket:
        return TICKET

    async def aclose(self) -> None:
        return None


async def test_the_incident_goes_on_and_keeps_the_new_issue_through_the_pipeline(
    sink: GitHubSink, github: LaterLifeGitHub
) -> None:
    """Through the pipeline and its store: with the issue deleted, the incident's update and
    resolve go through without failing their messages, and its re-fire's new issue becomes
    the incident's ticket (what `triage incidents list` shows)."""
    policy = Policy(timedelta(minutes=15), timedelta(hours=1), flap_threshold=3)
    store = MemoryStore(policy, timedelta(minutes=2))
    now = [T0]
    pipeline = Pipeline(
        Ledger(store, clock=lambda: now[0]),
        Summariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=policy,
    )

    async def send(minutes: float, status: Status = Status.FIRING) -> str:
        now[0] = T0 + timedelta(minutes=minutes)
        action = await pipeline.handle(alert(status=status, minutes=minutes), f"m-{minutes}")
        return str(action)

    fingerprint = alert().fingerprint
    assert await send(0) == "open"
    github.deleted.add((REPO, 1))
    assert [await send(20), await send(25, Status.RESOLVED)] == ["update", "close"]
    assert await send(30) == "reopen"
    incident = await store.get(fingerprint)
    assert incident is not None
    assert incident.refs["github"] == f"{github.url}/{REPO}/issues/2"


def incident(n: int) -> Effect:
    """The OPEN of the n-th distinct incident (its own fingerprint)."""
    fields = ALERT.model_dump(exclude={"fingerprint"})
    shown = Alert(**{**fields, "identity": {"dedup_key": f"incident-{n}"}})
    return Effect(
        EffectKind.OPEN, shown.fingerprint, view(shown), TICKET, None, 1, 1, False, f"k{n}"
    )


@pytest.mark.parametrize("fate", ["deleted", "locked", "transferred"])
async def test_a_digest_issue_taken_away_is_replaced_not_written_to(
    github: LaterLifeGitHub, fate: str
) -> None:
    """During a storm, a digest issue a person deleted, locked or transferred is forgotten:
    the next incident goes into a new digest (with the next hourly token), instead of failing
    on the old one or being written into whatever issue now has its number here."""
    wall = [1_800_000_000.0]
    settings = Settings(
        github_api_url=github.url,
        github_repository=REPO,
        github_token=TOKEN,
        github_create_per_hour=3,
    )
    sink = GitHubSink(settings, wall_clock=lambda: wall[0])
    try:
        for n in (1, 2, 3):  # two issues of their own; the third opens the digest, issue 3
            await sink.apply(incident(n))
        if fate == "deleted":
            github.deleted.add((REPO, 3))
        elif fate == "locked":
            github.locked.add((REPO, 3))
        else:
            github.transfer(3, "acme/new")
        wall[0] += 1200  # a creation token is free again
        ref = (await sink.apply(incident(4))).ref
    finally:
        await sink.aclose()
    assert ref is not None and ref.startswith(f"{github.url}/{REPO}/issues/4#issuecomment-")
    assert github.issues()[3]["title"].startswith("[triage] Alert storm")


async def test_an_issue_github_will_not_reopen_gets_a_new_issue_on_a_refire(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A re-fire of an issue GitHub will not reopen (422: a maintainer closed it where triage
    only wrote it, or it became a discussion) opens one new issue, with one warning an attempt;
    the same effect retried finds it and opens no second one."""
    ref = await opened(sink)
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2"))
    github.unreopenable.add((REPO, 1))
    first = await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3"))
    again = await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3"))
    assert first.ref == again.ref == f"{github.url}/{REPO}/issues/2"
    assert [i["state"] for i in github.issues()] == ["closed", "open"]
    assert warnings(logs) == ["github.reopen_refused"] * 2


async def test_a_deleted_digest_entry_is_skipped_with_one_warning(
    github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A storm incident whose digest comment a person deleted (its edit answers 404) has its
    later effects skipped with one `github.issue_gone` warning, not failed for good."""
    settings = Settings(
        github_api_url=github.url,
        github_repository=REPO,
        github_token=TOKEN,
        github_create_per_hour=2,
    )
    sink = GitHubSink(settings)
    try:
        await sink.apply(incident(1))
        entry = (await sink.apply(incident(2))).ref  # the hour's last token opens the digest
        assert entry is not None and "#issuecomment-" in entry
        github.fail_next(1, 404, message="Not Found", method="PATCH", path="/issues/comments/")
        applied = await sink.apply(effect(EffectKind.CLOSE, entry, "k2:2"))
    finally:
        await sink.aclose()
    assert (applied.skipped, applied.why) == ("issue gone (404)", NotSent.REFUSED)
    assert warnings(logs) == ["github.digest_opened", "github.issue_gone"]


async def test_a_label_that_cannot_be_added_does_not_stop_the_reopen(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A flapping re-fire whose `flapping` label a person deleted, which our token may not
    create again (403), still reopens and comments, with one `github.label_refused` warning."""
    ref = await opened(sink)
    await sink.apply(effect(EffectKind.CLOSE, ref, "fp:2"))
    github.labels = {"triage"}
    flapping = dataclasses.replace(effect(EffectKind.REOPEN, ref, "fp:3"), flapping=True)
    assert await sink.apply(flapping) == Applied()
    [issue] = github.issues()
    assert issue["state"] == "open" and issue["comment_bodies"][-1].startswith("Fired again")
    assert warnings(logs) == ["github.label_refused"]


async def test_an_issue_transferred_out_of_our_write_access_is_skipped_and_followed(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """An issue transferred to a repository our token may read but not write (403) has the
    effect skipped with one `github.issue_moved_away` warning, and the incident's reference
    follows it there (the operator sees where it went)."""
    ref = await opened(sink)
    number = github.transfer(1, "acme/new")
    github.read_only.add("acme/new")
    applied = await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    assert (applied.skipped, applied.why) == ("issue moved away (403)", NotSent.REFUSED)
    assert applied.ref == f"{github.url}/acme/new/issues/{number}"
    assert warnings(logs) == ["github.issue_moved_away"]


Send = Callable[..., Awaitable[str]]


def through_pipeline(sink: GitHubSink) -> tuple[MemoryStore, Send]:
    """A pipeline to `sink` over a store in memory; `send(minutes, status)` handles the
    incident's alert that many minutes after T0 (on a clock that says so) and names the action."""
    policy = Policy(timedelta(minutes=15), timedelta(hours=1), flap_threshold=3)
    store = MemoryStore(policy, timedelta(minutes=2))
    now = [T0]
    pipeline = Pipeline(
        Ledger(store, clock=lambda: now[0]),
        Summariser(),
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=policy,
    )

    async def send(minutes: float, status: Status = Status.FIRING) -> str:
        now[0] = T0 + timedelta(minutes=minutes)
        return str(await pipeline.handle(alert(status=status, minutes=minutes), f"m-{minutes}"))

    return store, send


async def test_a_deleted_issue_is_read_once_not_on_every_update_window(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """Through the pipeline: once GitHub said the issue is deleted, the incident's later
    update windows make no request to GitHub and log no more warnings; its resolve tries the
    close once more (one more warning); the re-fire goes to GitHub again and opens the new
    issue."""
    store, send = through_pipeline(sink)
    assert await send(0) == "open"
    github.deleted.add((REPO, 1))
    assert await send(20) == "update"
    calls = len(github.calls)
    assert [await send(40), await send(60)] == ["update", "update"]
    assert len(github.calls) == calls
    assert warnings(logs) == ["github.issue_gone"]
    assert await send(65, Status.RESOLVED) == "close"
    assert warnings(logs) == ["github.issue_gone", "github.issue_gone"]
    assert await send(70) == "reopen"
    incident = await store.get(alert().fingerprint)
    assert incident is not None
    assert incident.refs == {"github": f"{github.url}/{REPO}/issues/2"}
    assert incident.gone == {}


async def test_a_refire_of_an_issue_moved_out_of_reach_opens_a_new_issue(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """Through the pipeline: an issue transferred where our token may not write is followed
    and marked gone; a re-fire then opens a new issue in the route's repository (as for a
    deleted one) instead of failing its message on the 403 of the issue it cannot reopen."""
    store, send = through_pipeline(sink)
    assert await send(0) == "open"
    github.transfer(1, "acme/new")
    github.read_only.add("acme/new")
    assert [await send(20), await send(25, Status.RESOLVED)] == ["update", "close"]
    assert await send(30) == "reopen"
    incident = await store.get(alert().fingerprint)
    assert incident is not None
    assert incident.refs == {"github": f"{github.url}/{REPO}/issues/2"}
    # The update marks it gone; the close is tried once more; the re-fire opens the new one.
    assert warnings(logs) == ["github.issue_moved_away"] * 3


async def test_a_first_refire_after_a_transfer_out_of_reach_opens_a_new_issue(
    sink: GitHubSink, github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A re-fire that is the first effect after its issue was transferred where our token may
    not write (GitHub redirects the read) opens a new issue in the route's repository."""
    ref = await opened(sink)
    github.transfer(1, "acme/new")
    github.read_only.add("acme/new")
    applied = await sink.apply(effect(EffectKind.REOPEN, ref, "fp:3"))
    assert applied.ref == f"{github.url}/{REPO}/issues/2"
    assert warnings(logs) == ["github.issue_moved_away"]


async def test_a_refire_of_a_deleted_digest_entry_gets_a_new_ticket(
    github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A storm incident whose digest comment a person deleted fires again: it gets a new
    ticket as a deleted issue does (here a new digest entry, the hour's issues being spent),
    instead of a skip and a warning on every re-fire with no ticket at all."""
    settings = Settings(
        github_api_url=github.url,
        github_repository=REPO,
        github_token=TOKEN,
        github_create_per_hour=2,
    )
    sink = GitHubSink(settings)
    try:
        await sink.apply(incident(1))
        entry = (await sink.apply(incident(2))).ref
        assert entry is not None and "#issuecomment-" in entry
        github.delete_comment(int(entry.rpartition("-")[2]))
        refire = dataclasses.replace(incident(2), kind=EffectKind.REOPEN, ref=entry)
        applied = await sink.apply(dataclasses.replace(refire, idempotency_key="k2:3"))
    finally:
        await sink.aclose()
    assert applied.ref is not None and "#issuecomment-" in applied.ref
    assert applied.ref != entry and applied.skipped is None
    assert warnings(logs) == ["github.digest_opened", "github.issue_gone"]


class Clock:
    """A monotonic clock a test moves by hand (the sink's memory of refusals reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def clocked(github: LaterLifeGitHub) -> AsyncIterator[tuple[GitHubSink, Clock]]:
    clock = Clock()
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=TOKEN)
    s = GitHubSink(settings, clock=clock)
    try:
        yield s, clock
    finally:
        await s.aclose()


def posts(github: LaterLifeGitHub) -> list[str]:
    """The paths of every write the sink sent (anything but a GET)."""
    return [c["path"] for c in github.calls if c["method"] != "GET"]


async def test_a_locked_issue_is_not_commented_on_at_every_update_window(
    clocked: tuple[GitHubSink, Clock],
    github: LaterLifeGitHub,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """Once GitHub refused a comment as locked, the issue's later updates and its close post
    no comment (one warning in all; the close still closes); once it reads as unlocked, the
    next update comments again at once."""
    sink, _ = clocked
    ref = await opened(sink)
    github.locked.add((REPO, 1))
    for n in (2, 3, 4):
        assert (await sink.apply(effect(EffectKind.UPDATE, ref, f"fp:{n}"))).skipped
    assert await sink.apply(effect(EffectKind.CLOSE, ref, "fp:5")) == Applied()
    comments = f"/repos/{REPO}/issues/1/comments"
    assert posts(github).count(comments) == 1
    assert github.issues()[0]["state"] == "closed"
    assert warnings(logs) == ["github.issue_locked"]
    github.locked.clear()
    assert await sink.apply(effect(EffectKind.REOPEN, ref, "fp:6")) == Applied()
    assert github.issues()[0]["comment_bodies"][-1].startswith("Fired again")


async def test_a_lock_is_asked_about_again_after_a_while(
    clocked: tuple[GitHubSink, Clock],
    github: LaterLifeGitHub,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A lock is believed for a quarter of an hour, then GitHub is asked again (our token may
    have become a collaborator's, who may comment on a locked issue): one more warning if it
    still refuses."""
    sink, clock = clocked
    ref = await opened(sink)
    github.locked.add((REPO, 1))
    await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))
    clock.now += 14 * 60
    await sink.apply(effect(EffectKind.UPDATE, ref, "fp:3"))
    clock.now += 2 * 60
    await sink.apply(effect(EffectKind.UPDATE, ref, "fp:4"))
    assert posts(github).count(f"/repos/{REPO}/issues/1/comments") == 2
    assert warnings(logs) == ["github.issue_locked"] * 2


async def test_an_archived_repository_is_not_written_to_again_for_a_while(
    clocked: tuple[GitHubSink, Clock],
    github: LaterLifeGitHub,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """Once GitHub refused a write as archived, the repository's other incidents' effects are
    skipped (gone, counted in SinkCalls{outcome="refused"}) and new incidents refused without
    a request, with one warning in all; a quarter of an hour on it is asked again, and once
    unarchived, written."""
    sink, clock = clocked
    ref = await opened(sink)
    github.archived.add(REPO)
    assert (await sink.apply(effect(EffectKind.UPDATE, ref, "fp:2"))).gone
    calls = len(github.calls)
    for kind in (EffectKind.UPDATE, EffectKind.CLOSE, EffectKind.REOPEN):
        applied = await sink.apply(effect(kind, ref, "fp:3"))
        assert (applied.skipped, applied.gone) == ("repository read only", True)
    for n in (1, 2):
        with pytest.raises(SinkRejectedError, match="archived"):
            await sink.apply(incident(n))
    assert len(github.calls) == calls
    assert warnings(logs) == ["github.issue_read_only"]
    assert sink.metrics.counter("SinkCalls", sink="github", outcome="refused") == 4
    clock.now += 16 * 60
    github.archived.clear()
    assert (await sink.apply(incident(3))).ref == f"{github.url}/{REPO}/issues/2"


async def test_a_new_incident_refused_by_an_archived_repository_is_remembered(
    clocked: tuple[GitHubSink, Clock], github: LaterLifeGitHub
) -> None:
    """The first new incident's create refused as archived fails its message (a redrive once
    the route is fixed opens it); the next ones fail at once, without asking GitHub."""
    sink, _ = clocked
    github.archived.add(REPO)
    with pytest.raises(SinkRejectedError, match="archived"):
        await sink.apply(incident(1))
    calls = len(github.calls)
    with pytest.raises(SinkRejectedError, match="archived"):
        await sink.apply(incident(2))
    assert len(github.calls) == calls


async def test_a_digest_entry_in_a_locked_digest_is_not_edited_at_every_update_window(
    github: LaterLifeGitHub, logs: list[MutableMapping[str, Any]]
) -> None:
    """A storm incident's digest entry whose edit GitHub refuses as locked (403) is skipped
    with one warning; its later effects skip it without a request for a quarter of an hour,
    then ask again."""
    clock = Clock()
    settings = Settings(
        github_api_url=github.url,
        github_repository=REPO,
        github_token=TOKEN,
        github_create_per_hour=2,
    )
    sink = GitHubSink(settings, clock=clock)
    locked = "Unable to update comment because issue is locked."
    try:
        await sink.apply(incident(1))
        entry = (await sink.apply(incident(2))).ref  # the hour's last token opens the digest
        assert entry is not None and "#issuecomment-" in entry
        github.fail_next(1, 403, message=locked, method="PATCH", path="/issues/comments/")
        first = await sink.apply(effect(EffectKind.UPDATE, entry, "k2:2"))
        calls = len(github.calls)
        later = await sink.apply(effect(EffectKind.UPDATE, entry, "k2:3"))
        assert len(github.calls) == calls
        clock.now += 16 * 60
        assert await sink.apply(effect(EffectKind.UPDATE, entry, "k2:4")) == Applied()
    finally:
        await sink.aclose()
    assert (first.skipped, later.skipped) == ("issue locked (403)", "issue locked")
    assert warnings(logs) == ["github.digest_opened", "github.issue_locked"]
