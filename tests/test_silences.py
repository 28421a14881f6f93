"""Silences, closing by hand and escalation through the pipeline and the sweep, with in-memory
fakes (store, sinks, summariser) and loopback Slack and GitHub: in milliseconds. The store
methods themselves are proven on SQLite and DynamoDB in test_store.py."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from factories import T0, alert
from github_stub import GitHubServer
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.incidents import Action, Ledger, State
from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.metrics import Metrics
from triage.models import Status
from triage.ops.escalate import Escalator
from triage.ops.operator import incident_json, parse_duration
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import Router, load_router
from triage.settings import Settings


class Rig:
    """A pipeline and a sweep on one in-memory store, with a clock the test moves."""

    def __init__(self, router: Router | None = None, escalator: Escalator | None = None) -> None:
        self.store = MemoryStore(POLICY, LEASE)
        self.sink, self.summariser, self.clock = FakeSink(), CountingSummariser(), Clock()
        self.metrics = Metrics()
        # A cache that never serves stale silences here: the one-second bound is tested below.
        self.silences = SilenceCache(self.store, max_age_s=0.0)
        self.pipeline = Pipeline(
            Ledger(self.store, clock=self.clock),
            self.summariser,
            [self.sink],
            self.metrics,
            redactor=Redactor(),
            router=router,
            policy=POLICY,
            silences=self.silences,
        )
        self.escalator = escalator

    def sweep(self, owner: str = "sweep-a") -> Sweep:
        return Sweep(
            self.store,
            self.pipeline,
            self.silences,
            self.escalator,
            1.0,
            owner=owner,
            clock=self.clock,
        )

    async def send(
        self, minutes: float, status: Status = Status.FIRING, name: str = "api-5xx"
    ) -> Action:
        self.clock.at(minutes)
        return await self.pipeline.handle(alert(name, status, minutes=minutes), f"m{minutes}")

    async def silence(self, *matchers: str, hours: float = 1) -> Silence:
        silence = Silence.new(
            [Matcher.parse(m) for m in matchers],
            self.clock.now,
            self.clock.now + timedelta(hours=hours),
            "maintenance",
            "alice",
        )
        return await self.store.add_silence(silence, self.clock.now)


async def test_a_silenced_new_incident_opens_when_its_silence_ends_once() -> None:
    """Alerts under a silence are counted and stored but reach no sink; when the silence ends,
    one of two replicas' sweeps opens the ticket with the held alert, and only once."""
    r = Rig()
    await r.silence("team=payments", "title=~api-.*")
    assert await r.send(0) is Action.SILENCED
    assert await r.send(5) is Action.SILENCED
    assert r.sink.effects == [] and r.summariser.calls == 0
    assert r.metrics.counter("AlertsSilenced") == 2
    a, b = r.sweep("sweep-a"), r.sweep("sweep-b")
    r.clock.at(30)
    await a.once()
    assert r.sink.effects == []  # the silence still holds
    r.clock.at(61)
    await a.once()
    await b.once()
    assert r.sink.kinds() == ["open"]
    [opened] = r.sink.effects
    assert opened.alert.title == "api-5xx is failing" and opened.alert.team == "payments"
    [stored] = await r.store.incidents()
    assert stored.held is None and stored.pending is None and stored.occurrences == 2
    assert stored.refs == {"backend": "T-1"}
    # Each decision, then the sink's answer to the open (`open  backend: T-1`).
    assert [e.action for e in stored.history] == ["silenced", "silenced", "open", "open"]


async def test_a_silence_expired_by_hand_lets_go_at_the_next_sweep() -> None:
    """Expiring a silence early releases the incidents it held on the next pass, although the
    silence's own end (which the sweep index waits for) is an hour away."""
    r = Rig()
    silence = await r.silence("source=generic")
    await r.send(0)
    r.clock.at(10)
    await r.sweep().once()  # the sweep has seen the silence
    sweep = r.sweep()
    await sweep.once()
    await r.store.expire_silence(silence.id, r.clock.now)
    await sweep.once()
    assert r.sink.kinds() == ["open"]


async def test_a_silence_expired_while_no_sweep_ran_lets_go_at_the_first_pass() -> None:
    """A silence expired by hand while no replica was running (a deploy, a stopped daemon): a
    sweep that starts afterwards lets its incidents go at its first pass, not at the silence's
    original end, two days later."""
    r = Rig()
    silence = await r.silence("source=generic", hours=48)
    await r.send(0)
    r.clock.at(10)
    await r.store.expire_silence(silence.id, r.clock.now)  # no sweep running
    await r.sweep().once()  # a replica starts
    assert r.sink.kinds() == ["open"]


async def test_an_incident_under_overlapping_silences_waits_for_the_last_to_end() -> None:
    """Held by the first of two matching silences, an incident whose silence is expired by
    hand waits on the other one, and opens once, when that one ends."""
    r = Rig()
    first = await r.silence("team=payments", hours=1)
    await r.silence("source=generic", hours=3)
    await r.send(0)
    await r.store.expire_silence(first.id, r.clock.now)
    for minutes in (1, 90, 179):
        r.clock.at(minutes)
        await r.sweep().once()
        assert r.sink.kinds() == [], minutes
    for minutes in (181, 182):
        r.clock.at(minutes)
        await r.sweep().once()
    assert r.sink.kinds() == ["open"]


async def test_a_silence_that_does_not_match_changes_nothing() -> None:
    """`!=` and another team's silence leave the alert alone: it opens its ticket at once."""
    r = Rig()
    await r.silence("team=search")
    await r.silence("source=generic", "team!=payments")
    assert await r.send(0) is Action.OPEN
    assert r.sink.kinds() == ["open"]


@pytest.mark.parametrize(
    "matchers", [["env!=prod"], ["typo="], ["title=~.*"], ["team=~"], ["env!=prod", "x=~a*"]]
)
def test_a_silence_that_would_match_every_alert_is_refused(matchers: list[str]) -> None:
    """As Alertmanager: a silence needs a matcher that an empty or absent value fails, so a
    typo such as `envv!=prod` cannot silence every alert."""
    with pytest.raises(ValueError, match="every alert"):
        Silence.new([Matcher.parse(m) for m in matchers], T0, T0 + timedelta(hours=1), "c", "a")


def test_a_catastrophic_pattern_matches_in_linear_time() -> None:
    """Patterns are RE2's: `(a+)+` against a title that makes Python's re backtrack for hours
    answers at once, and syntax RE2 does not have (a backreference) is refused by name."""
    matcher = Matcher.parse("title=~(a+)+")
    subject = alert().model_copy(update={"title": "a" * 2000 + "!"})
    assert matcher.holds(subject) is False
    with pytest.raises(ValueError, match="RE2"):
        Matcher.parse("title=~(a)\\1")


async def test_an_update_held_by_a_silence_goes_out_when_it_ends() -> None:
    """A ticketed incident's update under a silence is held; a firing repeat after the silence
    ended carries it out at once, counting every occurrence since the last update."""
    r = Rig()
    await r.send(0)
    await r.silence("team=payments", hours=0.5)
    assert await r.send(20) is Action.SILENCED
    assert await r.send(25) is Action.SILENCED
    assert r.sink.kinds() == ["open"]
    assert await r.send(31) is Action.UPDATE
    assert r.sink.kinds() == ["open", "update"]
    assert r.sink.effects[-1].new_occurrences == 3


async def test_a_resolve_under_a_silence_still_closes_the_ticket() -> None:
    """Closes are never held: a resolve matching a silence closes the ticket."""
    r = Rig()
    await r.send(0)
    await r.silence("team=payments")
    assert await r.send(5, Status.RESOLVED) is Action.CLOSE
    assert r.sink.kinds() == ["open", "close"]


async def test_a_resolve_of_a_held_new_incident_tells_nobody() -> None:
    """An incident whose ticket was never opened (held) closes without a sink call, and the
    sweep has nothing left to do for it."""
    r = Rig()
    await r.silence("team=payments", hours=0.5)
    await r.send(0)
    assert await r.send(5, Status.RESOLVED) is Action.RECORD
    r.clock.at(60)
    await r.sweep().once()
    assert r.sink.effects == []


async def test_closing_by_hand_tells_the_sinks_once_with_the_comment() -> None:
    """close() sends one CLOSE carrying the author and comment; closing again does nothing."""
    r = Rig()
    await r.send(0)
    fingerprint = alert().fingerprint
    r.clock.at(3)
    action = await r.pipeline.close(fingerprint, "cli:bob", "fixed by the rollback", "bob")
    assert action is Action.CLOSE
    again = await r.pipeline.close(fingerprint, "cli:bob", "fixed by the rollback", "bob")
    assert again is Action.IGNORE
    assert r.sink.kinds() == ["open", "close"]
    closing = r.sink.effects[-1]
    assert "closed by bob: fixed by the rollback" in closing.alert.title
    assert closing.ref == "T-1" and closing.alert.status is Status.RESOLVED
    stored = await r.store.get(fingerprint)
    assert stored is not None and stored.state is State.CLOSED and stored.pending is None
    with pytest.raises(LookupError):
        await r.pipeline.close("f" * 32, "cli:bob", "x", "bob")


async def test_a_close_by_hand_whose_process_died_is_redone_by_the_sweep() -> None:
    """A close claimed by hand but never carried out (the CLI died) is redone by the sweep
    once its lease ends, with the operator's note."""
    r = Rig()
    await r.send(0)
    fingerprint = alert().fingerprint
    r.sink.failures = 1
    with pytest.raises(Exception, match="503"):
        await r.pipeline.close(fingerprint, "cli:bob", "rolled back", "bob")
    r.clock.at(0.5)
    await r.sweep().once()  # released on failure: taken over at once
    assert r.sink.kinds() == ["open", "close"]
    assert "rolled back" in r.sink.effects[-1].alert.title


async def test_an_effect_the_sweep_retries_waits_longer_after_each_failure() -> None:
    """A close by hand whose sink keeps failing is not tried on every sweep pass: again 30 s
    after the first failure, 60 s after the second, 120 s after the third; then it goes out."""
    r = Rig()
    await r.send(0)
    fingerprint = alert().fingerprint
    r.sink.failures = 3
    with pytest.raises(Exception, match="503"):
        await r.pipeline.close(fingerprint, "cli:bob", "rolled back", "bob")
    [failed] = await r.store.incidents()
    shown = incident_json(failed, Redactor(), history=True)["pending"]
    assert (shown["failed_attempts"], shown["retry_at"]) == (1, "2026-11-23T09:00:30+00:00")
    sweep = r.sweep()
    tried_at = []
    for second in range(0, 240, 5):  # a pass every 5 s for four minutes
        r.clock.at(second / 60)
        before = r.sink.failures, len(r.sink.effects)
        await sweep.once()
        if (r.sink.failures, len(r.sink.effects)) != before:
            tried_at.append(second)
    assert tried_at == [30, 90, 210]
    assert r.sink.kinds() == ["open", "close"]
    [stored] = await r.store.incidents()
    assert stored.pending is None and stored.state is State.CLOSED


async def test_a_message_redoes_an_effect_the_sweep_is_waiting_to_retry() -> None:
    """An alert arriving while the sweep waits to retry a failed effect does not wait for it:
    its message carries the effect out first, at once."""
    r = Rig()
    await r.send(0)
    r.sink.failures = 1
    with pytest.raises(Exception, match="503"):
        await r.pipeline.close(alert().fingerprint, "cli:bob", "rolled back", "bob")
    await r.send(0.1)
    assert r.sink.kinds()[:2] == ["open", "close"]


def test_matchers_parse_all_three_operators_and_refuse_mistakes() -> None:
    """KEY=VALUE, KEY!=VALUE and KEY=~REGEX parse (the regex matches the whole value);
    a missing operator, a bad name or a bad regex is a ValueError."""
    subject = alert()
    assert Matcher.parse("team=payments").holds(subject)
    assert not Matcher.parse("team!=payments").holds(subject)
    assert Matcher.parse("env!=prod").holds(subject)  # absent label
    assert Matcher.parse("title=~api-.*").holds(subject)
    assert not Matcher.parse("title=~api").holds(subject)  # anchored, as Alertmanager's
    assert Matcher.parse("title=a=b").value == "a=b"
    for bad in ("team", "=x", "bad name=x", "title=~("):
        with pytest.raises(ValueError, match="matcher"):
            Matcher.parse(bad)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    for bad in ("", "0m", "soon", "400d", "99999999999h", "1000000000d", "\uff12h", "\u09e9h"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)  # never an OverflowError (a 500), nor other scripts' digits


async def test_the_silence_cache_rereads_after_its_max_age() -> None:
    """A silence added in the store is served by the cache no later than `max_age_s` after."""
    store, now = MemoryStore(), [0.0]
    cache = SilenceCache(store, max_age_s=1.0, clock=lambda: now[0])
    assert await cache.current() == ()
    silence = Silence.new([Matcher.parse("team=x")], T0, T0 + timedelta(hours=1), "c", "a")
    await store.add_silence(silence, T0)
    now[0] = 0.9
    assert await cache.current() == ()
    now[0] = 1.0
    assert await cache.current() == (silence,)


async def test_the_silences_in_effect_share_one_regex_budget() -> None:
    """Every alert is matched against every silence: past 20,000 compiled instructions, or
    256 distinct patterns, among the silences in effect, a new one is refused; one that has
    ended frees its share."""
    store = MemoryStore()
    hour = timedelta(hours=1)
    costly = [  # 1,656 instructions each, under the per-pattern bound: 12 fit, not 13
        Silence.new([Matcher.parse(f"title=~(.?){{150}}x{n}")], T0, T0 + hour, "c", "a")
        for n in range(13)
    ]
    for silence in costly[:-1]:
        await store.add_silence(silence, T0)
    with pytest.raises(ValueError, match="at most 20000"):
        await store.add_silence(costly[-1], T0)
    assert (await store.add_silence(costly[-1], T0 + 2 * hour)).id == costly[-1].id  # ended
    many = [
        Silence.new([Matcher.parse(f"title=~disk{n}.*")], T0, T0 + hour, "c", "a")
        for n in range(257)
    ]
    store = MemoryStore()
    for silence in many[:-1]:
        await store.add_silence(silence, T0)
    with pytest.raises(ValueError, match="257 distinct regular expressions"):
        await store.add_silence(many[-1], T0)


# --- Escalation ----------------------------------------------------------------------------


class Hook:
    """A loopback Slack incoming webhook: records each POST's JSON and answers 200 `ok`."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.posts.append(json.loads(raw))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T1/B1/x"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack() -> Iterator[Hook]:
    hook = Hook()
    yield hook
    hook.stop()


GH_TOKEN = "ghp_" + "Esc4l4t3T0k3n" * 3

ROUTES = """
[[route]]
name = "payments"
sinks = ["backend", "github"]
escalate_after_s = 1800
[route.match]
team = ["payments"]
[route.escalate]
slack_webhook_url = "{slack}"
github_assignees = ["oncall-lead"]
github_label = "escalated"
"""


def _escalating(tmp_path: Path, slack: Hook, github: GitHubServer) -> tuple[Settings, Router]:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(slack=slack.url))
    settings = Settings(
        routes_file=routes,
        github_token=SecretStr(GH_TOKEN),
        github_repository="acme/ops",
        github_api_url=github.url,
    )
    return settings, load_router(settings)


async def test_an_incident_open_past_its_route_delay_is_escalated_once(
    tmp_path: Path, slack: Hook
) -> None:
    """30 minutes after opening, one of two replicas' sweeps escalates the incident: one Slack
    post with the title, the assignee and label on its issue, a comment; never again."""
    github = GitHubServer(tokens={GH_TOKEN: "triage-bot"}, repositories=("acme/ops",)).start()
    try:
        settings, router = _escalating(tmp_path, slack, github)
        escalator = Escalator(settings, router)
        r = Rig(router, escalator)
        issue = httpx2.post(  # the incident's issue, as the github sink made it
            f"{github.url}/repos/acme/ops/issues",
            json={"title": "api-5xx is failing"},
            headers={"Authorization": f"Bearer {GH_TOKEN}"},
        ).json()
        await r.send(0)
        fingerprint = alert().fingerprint
        await _set_ref(r, fingerprint, "github", issue["html_url"])
        r.clock.at(29)
        await r.sweep("a").once()
        assert slack.posts == []
        r.clock.at(31)
        await r.sweep("a").once()
        await r.sweep("b").once()
        r.clock.at(90)
        await r.sweep("b").once()
        await escalator.aclose()
    finally:
        github.stop()
    [post] = slack.posts
    assert "Escalated" in post["text"] and "api-5xx is failing" in post["text"]
    [gh_issue] = github.issues()
    assert [a["login"] for a in gh_issue["assignees"]] == ["oncall-lead"]
    assert "escalated" in [label["name"] for label in gh_issue["labels"]]
    assert any("Escalated" in body for body in gh_issue["comment_bodies"])
    stored = await r.store.get(fingerprint)
    assert stored is not None and stored.escalation is not None
    assert stored.escalation.done_at == T0 + timedelta(minutes=31)


@contextlib.asynccontextmanager
async def _escalating_incident(
    tmp_path: Path, slack: Hook, ref: Callable[[GitHubServer], str] | None = None
) -> AsyncIterator[tuple[Rig, GitHubServer, str]]:
    """An incident of the escalating route, opened at T0, whose GitHub reference is `ref(github)`
    (by default an issue made for it); the rig, the GitHub stand-in and the fingerprint."""
    github = GitHubServer(tokens={GH_TOKEN: "triage-bot"}, repositories=("acme/ops",)).start()
    try:
        settings, router = _escalating(tmp_path, slack, github)
        escalator = Escalator(settings, router)
        r = Rig(router, escalator)
        if ref is None:
            issue = httpx2.post(
                f"{github.url}/repos/acme/ops/issues",
                json={"title": "api-5xx is failing"},
                headers={"Authorization": f"Bearer {GH_TOKEN}"},
            ).json()
            where = issue["html_url"]
        else:
            where = ref(github)
        await r.send(0)
        fingerprint = alert().fingerprint
        await _set_ref(r, fingerprint, "github", where)
        try:
            yield r, github, fingerprint
        finally:
            await escalator.aclose()
    finally:
        github.stop()


async def test_an_escalation_retried_after_a_failure_tells_only_the_targets_left(
    tmp_path: Path, slack: Hook
) -> None:
    """Slack took the escalation, GitHub failed (503): the retry a minute later tells GitHub
    only, instead of posting to Slack again at every retry while GitHub is down."""
    async with _escalating_incident(tmp_path, slack) as (r, github, fingerprint):
        github.fail_next(20, 503)  # GitHub down for the first try (the client retries a little)
        r.clock.at(31)
        await r.sweep("a").once()
        github.recover()
        r.clock.at(33)
        await r.sweep("a").once()
        [gh_issue] = github.issues()
    assert len(slack.posts) == 1
    assert [a["login"] for a in gh_issue["assignees"]] == ["oncall-lead"]
    stored = await r.store.get(fingerprint)
    assert stored is not None and stored.escalation is not None
    assert stored.escalation.done_at == T0 + timedelta(minutes=33)
    assert stored.escalation.sent == ("slack", "github")


async def test_an_escalation_refused_for_good_is_not_repeated_every_minute(
    tmp_path: Path, slack: Hook
) -> None:
    """The incident's issue is gone (GitHub answers 404): the escalation is refused for good,
    so it ends there instead of posting to Slack again at every retry."""
    gone = "https://github.com/acme/ops/issues/999"
    async with _escalating_incident(tmp_path, slack, lambda _: gone) as (r, _, fingerprint):
        for minute in (31, 33, 40, 90):
            r.clock.at(minute)
            await r.sweep("a").once()
    assert len(slack.posts) == 1
    stored = await r.store.get(fingerprint)
    assert stored is not None and stored.escalation is not None
    assert stored.escalation.done_at == T0 + timedelta(minutes=31)


async def test_escalating_a_digest_entry_comments_and_leaves_the_digest_issue_alone(
    tmp_path: Path, slack: Hook
) -> None:
    """An incident whose GitHub reference is an entry (a comment) of a storm digest shares the
    issue with others: the escalation comments on it naming the entry, and neither assigns nor
    labels the whole digest."""

    def digest_entry(github: GitHubServer) -> str:
        digest = httpx2.post(
            f"{github.url}/repos/acme/ops/issues",
            json={"title": "Storm digest"},
            headers={"Authorization": f"Bearer {GH_TOKEN}"},
        ).json()
        return str(digest["html_url"]) + "#issuecomment-77"

    async with _escalating_incident(tmp_path, slack, digest_entry) as (r, github, _):
        r.clock.at(31)
        await r.sweep("a").once()
        [gh_issue] = github.issues()
    assert gh_issue["assignees"] == [] and "escalated" not in str(gh_issue["labels"])
    [comment] = gh_issue["comment_bodies"]
    assert "digest entry" in comment and "issuecomment-77" in comment
    assert len(slack.posts) == 1


async def test_a_silenced_or_closed_incident_is_not_escalated(tmp_path: Path, slack: Hook) -> None:
    """A silence matching the incident keeps it from escalating; so does closing it."""
    github = GitHubServer(tokens={GH_TOKEN: "triage-bot"}, repositories=("acme/ops",)).start()
    try:
        settings, router = _escalating(tmp_path, slack, github)
        escalator = Escalator(settings, router)
        r = Rig(router, escalator)
        await r.send(0)
        await r.send(0, name="db-down")
        await r.silence("title=~api-.*")
        r.clock.at(1)
        await r.pipeline.close(alert("db-down").fingerprint, "cli", "done", "bob")
        r.clock.at(45)
        await r.sweep().once()
        await escalator.aclose()
    finally:
        github.stop()
    assert slack.posts == []


async def test_routes_match_on_the_known_error_category(tmp_path: Path) -> None:
    """A `category` rule routes an incident whose alert matches that known-error pattern."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "disk"\nsinks = ["backend"]\n[route.match]\ncategory = ["disk-full"]\n'
    )
    r = Rig(load_router(Settings(routes_file=routes)))
    r.clock.at(0)
    disk = alert("disk").model_copy(update={"title": "No space left on device on db-1"})
    await r.pipeline.handle(disk, "m1")
    await r.send(1)
    routes_taken = [s.route for s in await r.store.incidents()]
    assert sorted(routes_taken, key=str) == ["default", "disk"]


async def _set_ref(r: Rig, fingerprint: str, sink: str, ref: str) -> None:
    """The incident's ticket reference, as the github sink would have stored it."""
    record = r.store.records[("incident", fingerprint)]
    incident = incident_from_json(record.body)
    changed = dataclasses.replace(incident, refs={sink: ref})
    r.store.records[("incident", fingerprint)] = dataclasses.replace(
        record, body=incident_to_json(changed)
    )


def test_a_stored_silence_re2_cannot_read_is_skipped_and_kept() -> None:
    """A silence an earlier release stored with Python-only syntax (a lookahead) is skipped
    with a warning, and a later write keeps it as it was rather than dropping it."""
    from triage.incidents.store import (
        SILENCES,
        SILENCES_KEY,
        Record,
        _silences_of,
        _silences_record,
    )

    good = Silence.new([Matcher.parse("team=search")], T0, T0 + timedelta(hours=1), "c", "a")
    old = {**good.to_json(), "id": "old", "matchers": ["title=~(?!x).*disk"]}
    record = Record(SILENCES_KEY, SILENCES, 1, json.dumps({"silences": [good.to_json(), old]}))
    assert [s.id for s in _silences_of(record)] == [good.id]
    written = _silences_record(record, [])
    assert json.loads(written.body)["silences"] == [old]


def test_a_silences_record_read_again_gives_lists_of_its_own() -> None:
    """The record read last is remembered, not shared: a caller changing the list it got
    changes nothing the next reader of the same record gets, and a changed record is read
    anew."""
    from triage.incidents.store import SILENCES, SILENCES_KEY, Record, _read_silences

    one = Silence.new([Matcher.parse("team=search")], T0, T0 + timedelta(hours=1), "c", "a")
    two = Silence.new([Matcher.parse("team=ops")], T0, T0 + timedelta(hours=1), "c", "a")
    record = Record(SILENCES_KEY, SILENCES, 1, json.dumps({"silences": [one.to_json()]}))
    first, _ = _read_silences(record)
    first.append(two)
    assert [s.id for s in _read_silences(record)[0]] == [one.id]
    changed = Record(SILENCES_KEY, SILENCES, 2, json.dumps({"silences": [two.to_json()]}))
    assert [s.id for s in _read_silences(changed)[0]] == [two.id]


async def test_a_store_outage_is_one_sweep_warning_then_one_recovery_line() -> None:
    """The store failing pass after pass is one `sweep.failed` warning (the repeats at debug),
    and one `sweep.recovered` when a pass gets through, not a warning every interval."""
    from structlog.testing import capture_logs

    from triage.errors import StoreUnavailableError

    r = Rig()
    sweep = r.sweep()
    down = True
    due = r.store._due

    async def failing_due(now_s: float | None) -> list[str]:
        if down:
            raise StoreUnavailableError("sqlite: database is locked")
        return await due(now_s)

    r.store._due = failing_due  # type: ignore[method-assign]
    with capture_logs() as logs:
        for _ in range(4):
            await sweep.once()
        down = False
        await sweep.once()
        await sweep.once()
    seen = [
        (line["event"], line["log_level"]) for line in logs if line["event"].startswith("sweep")
    ]
    assert seen == [
        ("sweep.failed", "warning"),
        *[("sweep.failed", "debug")] * 3,
        ("sweep.recovered", "info"),
    ]


async def test_a_held_effect_behind_another_in_progress_goes_out_once_that_one_is_done() -> None:
    """A firing silenced while its incident's close is being carried out holds a reopen beside
    that close; the close's worker stops half way (cancelled), the silence is expired by hand,
    and the sweep redoes the close, then lets the reopen go at its next pass, not at the
    silence's original end two days later (the index waited for that end)."""
    r = Rig()
    await r.send(0)
    r.sink.gate = asyncio.Event()  # the close's sink call never answers
    r.clock.at(1)
    closing = asyncio.create_task(r.pipeline.handle(alert(status=Status.RESOLVED, minutes=1), "m1"))
    while not (await r.store.incidents())[0].pending:
        await asyncio.sleep(0)
    silence = await r.silence("source=generic", hours=48)
    assert await r.send(2) is Action.SILENCED  # held beside the close in progress
    closing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closing
    [stored] = await r.store.incidents()
    assert stored.held is not None and stored.pending is not None
    await r.store.expire_silence(silence.id, r.clock.now)
    r.sink.gate = None
    sweep = r.sweep()
    r.clock.at(10)
    await sweep.once()  # the close, redone
    r.clock.at(11)
    await sweep.once()  # the reopen, let go
    assert r.sink.kinds() == ["open", "close", "reopen"]
