"""A group's values are shown as the alert's view shows them (task 400).

A value an alert holds under a secret's name (`db_password: hunter2xyzKq9`) is blanked in
every field of its view that repeats it. A group keyed by a label repeating it (`instance:
db-1/hunter2xyzKq9`) shows that label as the view does: in the group's ticket (GitHub, Slack,
backend, the prompt), its stored record and the operator's listing. Its key is still a hash
of the raw values (an open group is not split), and a storm's repeat redacts nothing for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from memory_store import MemoryStore
from test_pipeline import POLICY, Clock, FakeSink
from test_redteam_round4_storms import iso, webhook
from test_silences import Rig
from test_storms_round6_keys import POD_LABELS
from test_storms_round6_keys import alert as pod_alert
from triage.errors import GatheringError
from triage.incidents import Action, Ledger
from triage.incidents.codec import incident_to_json
from triage.incidents.groups import GroupKey, agreed_labels, decide_group
from triage.incidents.lifecycle import Policy
from triage.metrics import Metrics
from triage.models import Alert
from triage.ops.operator import incident_json, labels_of
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sinks import slack
from triage.sinks.backend import _open_body
from triage.sinks.github import text as github
from triage.sqs.inbox import Message
from triage.summarise import prompt
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import AlertView

SECRET = "hunter2xyzKq9"
#: The group_by label as the alert's view shows it: the secret taken out.
SHOWN_INSTANCE = "db-1/[REDACTED:credential]"

ROUTES = """
[[route]]
name = "db-auth"
sinks = ["backend"]
group_by = ["alertname", "instance"]
{window}
[route.match]
source = ["alertmanager"]
"""


def db_alert(pod: str = "api-0") -> dict[str, Any]:
    """A firing Alertmanager alert holding SECRET under a secret's name, and again in the
    `instance` label its group is keyed by."""
    labels = {"alertname": "DbAuth", "db_password": SECRET, "instance": f"db-1/{SECRET}"}
    return {
        "status": "firing",
        "labels": {**labels, "pod": pod},
        "annotations": {"summary": "db auth failing"},
        "startsAt": iso(T0),
        "endsAt": "0001-01-01T00:00:00Z",
    }


def pipeline(tmp_path: Path, window_s: float = 0) -> tuple[Pipeline, MemoryStore, FakeSink]:
    """A pipeline on ROUTES (with `group_window_s` when given), its store and its sink."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(window=f"group_window_s = {window_s:g}" if window_s else ""))
    store, sink = MemoryStore(POLICY), FakeSink()
    p = Pipeline(
        Ledger(store, clock=Clock()), DeterministicSummariser(), [sink], Metrics(),
        redactor=Redactor(), router=load_router(Settings(routes_file=routes)), policy=POLICY,
    )  # fmt: skip
    return p, store, sink


def message(alerts: list[dict[str, Any]], n: int = 1) -> Message:
    """A new Alertmanager message of `alerts`, queued and received at T0."""
    return Message(f"m-{n}", webhook(alerts), f"rh-{n}", 1, T0, received_at=T0)


async def test_a_group_keyed_by_a_label_repeating_a_named_secret_shows_it_nowhere(
    tmp_path: Path,
) -> None:
    """The group's ticket (GitHub title, body and labels, Slack, backend, the prompt), its
    stored record and the operator's listing show its `instance` as the view does, never the
    value the alert holds under `db_password`."""
    p, store, sink = pipeline(tmp_path)
    await p.process(message([db_alert("api-0"), db_alert("api-1")]))
    [opened] = sink.effects
    assert opened.alert.group is not None
    assert opened.alert.group.by["instance"] == SHOWN_INSTANCE
    [group] = await store.incidents()
    shown = {
        "github-title": github.issue_title(opened),
        "github-body": github.issue_body(opened),
        "github-labels": json.dumps(github.issue_labels(opened)),
        "slack": json.dumps(slack.open_message(opened)),
        "backend": json.dumps(_open_body(opened)),
        "prompt": prompt.build(opened.alert, Redactor(), 4000).user,
        "stored": incident_to_json(group),
        "listed": json.dumps(incident_json(group, Redactor())),
    }
    assert [place for place, text in shown.items() if SECRET in text] == []


async def test_a_gathering_group_keeps_its_shared_labels_as_the_view_shows_them(
    tmp_path: Path,
) -> None:
    """While its first ticket gathers members, the group keeps the labels they share (what
    silences and the listing read) as the view shows them: `instance` without the secret."""
    p, store, sink = pipeline(tmp_path, window_s=60)
    with pytest.raises(GatheringError):
        await p.process(message([db_alert("api-0")]))
    [group] = await store.incidents()
    assert sink.effects == []
    assert labels_of(group)["instance"] == SHOWN_INSTANCE
    assert SECRET not in incident_to_json(group)


async def test_a_silence_on_the_group_label_as_listed_holds_a_gathering_group(
    tmp_path: Path,
) -> None:
    """A silence added while a group's first ticket gathers members, on `instance` as the
    listing shows it (the view's value), holds that ticket: the group reads the labels its
    members share as the silence's matcher was written from."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.format(window="group_window_s = 60"))
    r = Rig(router=load_router(Settings(routes_file=routes)))
    first = message([db_alert("api-0"), db_alert("api-1")])
    with pytest.raises(GatheringError):
        await r.pipeline.process(first)
    await r.silence(f"instance={SHOWN_INSTANCE}")
    r.clock.at(2)
    again = Message(first.id, first.body, "rh-again", 2, first.sent_at, received_at=r.clock.now)
    await r.pipeline.process(again)
    assert r.sink.effects == []
    [group] = await r.store.incidents()
    assert group.held is not None


# --- the key, and the cost of a repeat ---------------------------------------------------------


def _alert(**more: str) -> Alert:
    """An Alertmanager alert of many labels (past the 64 shown) and `more`."""
    return pod_alert({**POD_LABELS, "alertname": "DbAuth", **more})


def _keys(alert: Alert, group_by: tuple[str, ...]) -> tuple[GroupKey, GroupKey]:
    """`alert`'s group keyed as before (`of`, redacting each value alone) and through its view."""
    redactor = Redactor()
    given = GroupKey.of(
        "db-auth", group_by, alert.routed_labels, 0, redactor.text, alert.uncut_labels
    )
    viewed = GroupKey.of_view("db-auth", group_by, 0, AlertView(alert, redactor))
    return given, viewed


def test_a_group_read_through_the_view_keeps_its_key() -> None:
    """Keyed through the alert's view, a group hashes the raw values as before (a cut one
    whole, one past the 64 shown too): an open group is not split by the change."""
    alert = _alert(instance=f"db-1/{SECRET}", db_password=SECRET, zz_long="x" * 2000)
    past = next(iter(alert.labels_past_cap))
    given, viewed = _keys(alert, ("alertname", "instance", "zz_long", past, "missing"))
    assert viewed.key == given.key
    assert viewed == given


def test_a_group_shows_its_values_as_the_view_shows_the_labels() -> None:
    """`by` and the title read each value as the alert's view shows it: a value repeating
    the secret held under `db_password` is blanked, and a group keyed by that label itself
    shows `[REDACTED:password]`; a label past the 64 shown is redacted alike."""
    alert = _alert(instance=f"db-1/{SECRET}", db_password=SECRET, zz_note=f"on {SECRET}")
    assert "zz_note" in alert.labels_past_cap
    _, viewed = _keys(alert, ("instance", "db_password", "zz_note"))
    assert dict(viewed.by) == {
        "instance": SHOWN_INSTANCE,
        "db_password": "[REDACTED:password]",
        "zz_note": "on [REDACTED:credential]",
    }
    assert SECRET not in viewed.title


class _Counting(Redactor):
    """A redactor that counts the texts it is asked to redact."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def text(self, text: str) -> str:
        self.texts += 1
        return super().text(text)


def test_a_repeat_of_a_member_redacts_nothing_for_its_group() -> None:
    """Keyed through the view, a member's repeat (its group open, the event counted) asks
    the redactor for nothing: the values are read only when a group is made or its shared
    labels change. Keyed with `redact` per value, as before, it asked once per value."""
    alert = _alert(instance="db-1")
    redactor = _Counting()
    group = GroupKey.of_view("db-auth", ("alertname", "instance"), 0, AlertView(alert, redactor))
    opened = decide_group(None, alert, T0, Policy(), group).incident
    assert opened is not None and redactor.texts > 0
    redactor.texts = 0
    again = GroupKey.of_view("db-auth", ("alertname", "instance"), 0, AlertView(alert, redactor))
    decision = decide_group(opened, alert, T0, Policy(), again)
    assert decision.action is Action.COUNT and decision.incident is None
    assert redactor.texts == 0


def test_a_view_made_group_and_a_stored_one_agree_on_the_labels_shared() -> None:
    """The labels a gathering group keeps for its members (`agreed_labels`) are the view's:
    a second member whose view shows the same value keeps it shared."""
    first = _alert(instance=f"db-1/{SECRET}", db_password=SECRET, pod="api-0")
    second = first.model_copy(update={"fingerprint": "f" * 32})
    redactor = Redactor()
    by = ("alertname", "instance")
    group = GroupKey.of_view("db-auth", by, 60, AlertView(first, redactor))
    opened = decide_group(None, first, T0, Policy(), group).incident
    assert opened is not None
    joined = GroupKey.of_view("db-auth", by, 60, AlertView(second, redactor))
    after = decide_group(opened, second, T0, Policy(), joined).incident
    assert after is not None
    shared = agreed_labels(after)
    assert shared["instance"] == SHOWN_INSTANCE and shared["db_password"] == "[REDACTED:password]"
    assert SECRET not in json.dumps(shared)
