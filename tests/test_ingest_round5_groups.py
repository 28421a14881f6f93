"""A webhook group (Alertmanager's, Grafana's) too big for one queue message is queued as
several copies of its group, each holding some of its alerts, which the daemon reads as the
same group: one ticket for a grouping route, the group's status for an alert that states none,
the group's `truncatedAlerts` said once. One alert too big for a message alone is still
refused, naming it (red team 286, tests/test_redteam_round5_sources.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from daemon_harness import Queues
from factories import T0
from ingest_harness import bearer
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from test_config_faults import routes
from test_ingest_gateway import received
from triage.incidents.ledger import Ledger
from triage.ingest import IngestService
from triage.ingest.messages import messages_for
from triage.ingest.refused import Refused
from triage.ingest.validate import check
from triage.metrics import Metrics
from triage.models import EffectKind, Status
from triage.normalize import normalize_body, recognise_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message

PAYLOADS = Path(__file__).parent / "payloads"
#: A queue made before SQS took 1 MiB a message: 256 KiB.
OLD_QUEUE_BYTES = 256 * 1024
SAMPLES = {"am": "alertmanager/group-firing.json", "grafana": "grafana/group-firing.json"}
ATTRIBUTES = {RECEIVED_AT_ATTRIBUTE: "2026-01-01T00:00:00.000Z", "source": "alertmanager"}


def _group(kind: str, count: int, **envelope: Any) -> dict[str, Any]:
    """The sample group of `kind` holding `count` alerts shaped as its first, one per instance,
    with `envelope`'s fields set on the group."""
    group: dict[str, Any] = json.loads((PAYLOADS / SAMPLES[kind]).read_text(encoding="utf-8"))
    first = group["alerts"][0]
    group["alerts"] = [
        copy.deepcopy(first)
        | {"labels": first["labels"] | {"instance": f"node-{i}:9100"}, "fingerprint": f"{i:016x}"}
        for i in range(count)
    ]
    return group | envelope


async def _queued(group: dict[str, Any], kind: str, limit: int = OLD_QUEUE_BYTES) -> list[str]:
    """The bodies the gateway queues for `group` posted to its webhook path."""
    source = SAMPLES[kind].split("/")[0]
    checked = check(source, json.dumps(group).encode(), None, lambda text: text)
    messages = await messages_for(checked, dict(ATTRIBUTES), limit)
    assert all(m.size_bytes <= limit for m in messages)
    return [m.body for m in messages]


@pytest.mark.parametrize("kind", SAMPLES)
async def test_each_part_of_a_big_group_is_the_group_with_some_of_its_alerts(kind: str) -> None:
    """Every part reads as the same format and carries the group's envelope (groupKey, common
    labels, status…) as sent (`truncatedAlerts` and Grafana's `message` aside: the tests below);
    the parts hold every alert once, in the order sent."""
    group = _group(kind, 400)
    bodies = await _queued(group, kind)
    assert len(bodies) > 1
    fmt = recognise_body(json.dumps(group)).format
    assert {recognise_body(body).format for body in bodies} == {fmt}
    aside = ("alerts", "message", "truncatedAlerts")
    envelope = {k: v for k, v in group.items() if k not in aside}
    for body in bodies:
        assert {k: v for k, v in json.loads(body).items() if k not in aside} == envelope
    assert [a for body in bodies for a in json.loads(body)["alerts"]] == group["alerts"]


@pytest.mark.parametrize("kind", SAMPLES)
async def test_an_alert_too_big_for_a_message_alone_is_refused_naming_it(kind: str) -> None:
    """A group whose one alert alone is over the limit is refused 413, naming that alert, never
    queued without it."""
    group = _group(kind, 3)
    group["alerts"][1]["annotations"]["description"] = "x" * (OLD_QUEUE_BYTES + 10)
    with pytest.raises(Refused) as refused:
        await _queued(group, kind)
    assert refused.value.status == 413
    assert "alert [1] alone is" in refused.value.error


async def test_the_groups_truncated_alerts_is_said_once_across_its_parts() -> None:
    """A cut group (`truncatedAlerts: 7`) split in parts logs its max_alerts note once, not
    once a part: the first part says it, the others say 0."""
    bodies = await _queued(_group("am", 400, truncatedAlerts=7), "am")
    notes = [n for body in bodies for n in normalize_body(body).notes if "max_alerts" in n]
    assert len(notes) == 1 and "left 7 alert(s)" in notes[0]


async def test_alerts_that_state_no_status_keep_the_groups_in_every_part() -> None:
    """Alerts without their own `status` read the group's in every part (here resolved), as
    they read it in the group sent whole."""
    group = _group("am", 400, status="resolved")
    for alert in group["alerts"]:
        del alert["status"]
        alert["endsAt"] = alert["startsAt"]
    bodies = await _queued(group, "am")
    statuses = {a.status for body in bodies for a in normalize_body(body).alerts}
    assert len(bodies) > 1 and statuses == {Status.RESOLVED}


async def test_characters_sqs_cannot_carry_stay_escaped_in_every_part() -> None:
    """A group whose labels and envelope hold U+FFFF (which SQS refuses) is split into parts
    that carry it as its JSON escape, the same value."""
    group = _group("am", 400, commonAnnotations={"summary": "odd \uffff value"})
    group["alerts"][0]["annotations"]["summary"] = "also \uffff here"
    bodies = await _queued(group, "am")
    assert not any("\uffff" in body for body in bodies)
    assert json.loads(bodies[0])["alerts"][0]["annotations"]["summary"] == "also \uffff here"
    assert {json.loads(b)["commonAnnotations"]["summary"] for b in bodies} == {"odd \uffff value"}


async def test_grafanas_message_rendering_every_alert_does_not_stop_the_split() -> None:
    """Grafana's `message` renders every alert of the group, so it is as big as the alerts:
    the parts carry it cut (the alerts it renders are each in their part), and fit."""
    group = _group("grafana", 400)
    group["message"] = "\n".join(f"- instance = node-{i}:9100 {'x' * 400}" for i in range(400))
    bodies = await _queued(group, "grafana")
    instances = [a.labels["instance"] for body in bodies for a in normalize_body(body).alerts]
    assert len(instances) == 400
    assert all(json.loads(b)["message"].startswith("- instance = node-0:9100") for b in bodies)


async def test_a_big_group_on_a_grouping_route_opens_one_ticket(tmp_path: Path) -> None:
    """The parts of one group, on a route grouping by alertname, are members of one incident:
    one ticket opened, not one a part."""
    sink = Sink()
    route = '[[route]]\nname = "fleet"\nsinks = ["backend"]\ngroup_by = ["alertname"]\n'
    router = load_router(routes(tmp_path, route))
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY)), Summariser(), [sink], Metrics(),
        redactor=Redactor(), router=router, policy=POLICY,
    )  # fmt: skip
    bodies = await _queued(_group("am", 400), "am")
    assert len(bodies) > 1
    for n, body in enumerate(bodies):
        await pipeline.process(Message(f"m-{n}", body, f"r-{n}", 1, T0, received_at=T0))
    assert [e.kind for e in sink.effects].count(EffectKind.OPEN) == 1


async def test_a_big_group_posted_to_the_gateway_is_accepted_and_queued_in_parts(
    client: httpx2.AsyncClient, queues: Queues, gateway: IngestService
) -> None:
    """Posted over HTTP to a queue taking 256 KiB a message, a 400-alert Alertmanager group is
    answered 202 (not 413, which Alertmanager does not retry) and queued as parts that hold
    every alert once."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(OLD_QUEUE_BYTES)}
    )
    assert gateway.gateway is not None
    await gateway.gateway.probe.refresh()
    group = _group("am", 400)
    response = await client.post(
        "/v1/alerts/alertmanager", content=json.dumps(group), headers=bearer("alertmanager")
    )
    assert response.status_code == 202
    bodies = [m["Body"] for m in received(queues)]
    assert len(bodies) > 1
    instances = [a.labels["instance"] for body in bodies for a in normalize_body(body).alerts]
    assert sorted(instances) == sorted(a["labels"]["instance"] for a in group["alerts"])


async def test_alerts_posted_without_the_groups_envelope_are_split_too() -> None:
    """`{"alerts": [...]}` alone (a receiver test sent with curl), too big for a message, is
    queued as such objects each holding some of the alerts."""
    alerts = _group("am", 400)["alerts"]
    bodies = await _queued({"alerts": alerts}, "am")
    assert len(bodies) > 1 and all(json.loads(b).keys() == {"alerts"} for b in bodies)
    assert [a for body in bodies for a in json.loads(body)["alerts"]] == alerts


async def test_a_group_whose_fields_alone_are_too_big_is_refused_saying_so() -> None:
    """A group with no alerts whose other fields are over the limit has nothing to split:
    413 saying so, not a part without its alerts' fields."""
    group = _group("am", 0, alerts=None, commonAnnotations={"summary": "x" * OLD_QUEUE_BYTES})
    with pytest.raises(Refused) as refused:
        await _queued(group, "am")
    assert refused.value.status == 413
    assert "no alerts to send in parts" in refused.value.error
