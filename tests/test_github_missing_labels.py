"""A label a repository lacks and the token may not create (GitHub's 403) is remembered per
repository for a while: later incidents' issues are created without it in one call, with every
other label, instead of three calls each that end with `triage` alone; once the memory expires
a label created since is used again. A `flapping` label the repository lacks is not asked for
at every reopen either. Against the loopback GitHub stub over real HTTP."""

from __future__ import annotations

from typing import Any

from github_stub import Answer, GitHubServer
from test_github_sink import (
    BOT_TOKEN,
    REPO,
    RESOLVED,
    FakeClock,
    effect,
    incident,
    open_sink,
)
from triage.models import EffectKind
from triage.sinks.github.missing_labels import MissingLabels
from triage.sinks.github.refusals import KEPT, RECHECK_S

ISSUES = f"/repos/{REPO}/issues"
#: The labels of the test's incidents, but for their priority's (`priority:P1`).
WITHOUT_PRIORITY = frozenset({"triage", "source:generic", "team:data"})


class LabelsOfItsOwn(GitHubServer):
    """The stub where an issue may carry only the labels the repository has (`existing`): a
    create or a label added that names another would create it, which the token may not do
    (GitHub's 403)."""

    existing: frozenset[str] = WITHOUT_PRIORITY

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        labels = (body.get("labels") or []) if isinstance(body, dict) else []
        return self._refused(labels) or super()._create_issue(actor, params, query, body)

    def _add_labels(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Answer:
        labels = (body.get("labels") or []) if isinstance(body, dict) else []
        return self._refused(labels) or super()._add_labels(actor, params, query, body)

    def _refused(self, labels: list[str]) -> Answer | None:
        if not set(labels) - self.existing:
            return None
        error = {"resource": "Repository", "field": "label", "code": "unauthorized"}
        message = "You do not have permission to create labels on this repository."
        return 403, {"message": message, "errors": [error]}, {}


def creates(github: GitHubServer) -> int:
    return len([c for c in github.calls if (c["method"], c["path"]) == ("POST", ISSUES)])


def labels_of(issue: dict[str, Any]) -> set[str]:
    return {label["name"] for label in issue["labels"]}


async def test_a_missing_priority_label_costs_extra_calls_once() -> None:
    """The first incident learns that the repository lacks `priority:P1` (three creates, the
    last with `triage` alone); the next ones are created in one call each, with their team and
    source labels."""
    wall, mono = FakeClock(1_800_000_000.0), FakeClock(5_000.0)
    with LabelsOfItsOwn(tokens={BOT_TOKEN: "triage-bot"}, clock=wall) as github:
        async with open_sink(github, mono, wall) as sink:
            await sink.apply(effect(alert=incident(1)))
            first = creates(github)
            for n in (2, 3):
                await sink.apply(effect(alert=incident(n), key=f"fp:{n}"))
        issues = github.issues()
    assert first == 3
    assert creates(github) == first + 2
    assert [labels_of(issue) for issue in issues] == [{"triage"}] + [set(WITHOUT_PRIORITY)] * 2


async def test_a_label_created_since_is_used_once_the_memory_expires() -> None:
    """Past RECHECK_S the label is asked for again: created meanwhile, the next issue has it
    (one call); until then it is left out without asking."""
    wall, mono = FakeClock(1_800_000_000.0), FakeClock(5_000.0)
    with LabelsOfItsOwn(tokens={BOT_TOKEN: "triage-bot"}, clock=wall) as github:
        async with open_sink(github, mono, wall) as sink:
            await sink.apply(effect(alert=incident(1)))
            github.existing = WITHOUT_PRIORITY | {"priority:P1"}
            mono.now += RECHECK_S - 1
            await sink.apply(effect(alert=incident(2), key="fp:2"))
            mono.now += 2
            before = creates(github)
            await sink.apply(effect(alert=incident(3), key="fp:3"))
        issues = github.issues()
    assert creates(github) == before + 1
    assert "priority:P1" not in labels_of(issues[1])
    assert labels_of(issues[2]) == WITHOUT_PRIORITY | {"priority:P1"}


async def test_a_missing_flapping_label_is_not_asked_for_at_every_reopen() -> None:
    """A repository without `flapping`: the first flapping reopen's label is refused (one
    warning, the reopen done); the next reopen does not ask again."""
    wall, mono = FakeClock(1_800_000_000.0), FakeClock(5_000.0)
    with LabelsOfItsOwn(tokens={BOT_TOKEN: "triage-bot"}, clock=wall) as github:
        github.existing = WITHOUT_PRIORITY | {"priority:P1"}
        async with open_sink(github, mono, wall) as sink:
            ref = (await sink.apply(effect())).ref
            for n in (1, 2):
                await sink.apply(effect(EffectKind.CLOSE, ref, f"c{n}", alert=RESOLVED))
                await sink.apply(effect(EffectKind.REOPEN, ref, f"r{n}", flapping=True))
        issue = github.issues()[0]
    adds = [c for c in github.calls if c["path"] == f"{ISSUES}/1/labels"]
    assert [c["status"] for c in adds] == [403]
    assert issue["state"] == "open"
    assert len(issue["comment_bodies"]) == 4


def test_the_memory_is_bounded_and_per_repository() -> None:
    """At most KEPT labels are remembered (the oldest forgotten first), each for its own
    repository and in any case: a storm of distinct alert-text labels cannot grow it."""
    clock = FakeClock(0.0)
    missing = MissingLabels(clock)
    for n in range(KEPT + 1):
        missing.note(REPO, f"team:t{n}")
    assert missing.kept(REPO, ["team:t0", "team:t1", "TEAM:T2"]) == ["team:t0"]
    assert missing.kept("acme/other", ["team:t1"]) == ["team:t1"]


def test_only_a_label_the_steps_tell_apart_is_learnt() -> None:
    """A refused request and the one taken that differ by one label teach that label; by
    several (which of them was missing is unknown), or by `triage`, nothing."""
    missing = MissingLabels(FakeClock(0.0))
    missing.learn(REPO, ["triage", "priority:P1", "source:x", "team:y"], ["triage", "priority:P1"])
    missing.learn(REPO, ["triage"], [])
    assert missing.kept(REPO, ["triage", "priority:P1", "source:x", "team:y"]) == [
        "triage",
        "priority:P1",
        "source:x",
        "team:y",
    ]
    missing.learn(REPO, ["triage", "priority:P1"], ["triage"])
    assert missing.kept(REPO, ["triage", "PRIORITY:P1"]) == ["triage"]
