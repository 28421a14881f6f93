"""Round 6 leftovers. Every normaliser keys groups and routes by a label's whole value, as
Alertmanager's, Grafana's, the generic and Sentry's readers do since round 6 (`common.Labels`):
the AWS readers (CloudWatch, EventBridge with the state changes it reads, the SNS notices of
`aws_shared.service_labels`), SNS text, Splunk, threshold, Datadog, Opsgenie, PagerDuty and the
readers of `vendors.labelled` (Cloud Monitoring here). And `triage run` and `triage ingest`
refuse, before any call, a queue URL on a local SQS that their client would send to AWS."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from test_redteam_round4_storms import Cluster
from triage.errors import ConfigError
from triage.incidents.groups import GroupKey
from triage.models import Alert
from triage.normalize import common, normalize_body
from triage.settings import Settings

PAYLOADS = Path(__file__).parent / "payloads"

#: sha256 (first 16 hex digits) of [fingerprint, labels] of each alert these samples read as,
#: recorded at commit ffe97b17, before their readers built `Labels`: within the limits, every
#: label and every fingerprint is as it was.
BEFORE = {
    "cloudwatch/sns-alarm.json": ["44be0de30472246f"],
    "cloudwatch/eventbridge-alarm.json": ["ca8f1585e25c48b9"],
    "cloudwatch/raw-metric-math.json": ["5fa0b7937494d3ba"],  # its shared dimensions, 2026-12-06
    "cloudwatch/eventbridge-composite.json": ["4824714119f34138"],
    "eventbridge/stepfunctions-execution-failed.json": ["25034c3f197cdf60"],
    "eventbridge/health-issue.json": ["9fd0fab9ebaad05c"],
    "eventbridge/guardduty-finding.json": ["f3bc956864d0c22e"],
    "eventbridge/securityhub-findings.json": ["82cd5267d5913800", "0575f617c517740b"],
    "eventbridge/securityhub-findings-v2.json": ["0a176861c331551e"],
    "aws/rds-failover-started.json": ["4c8e9b7030cf94ab"],
    "aws/ssm-invocation-failed.json": ["48a109c34f7d5b1a"],
    "aws/budgets-actual-exceeded.json": ["5ee7eca55728887e"],
    "vendors/gcp-open.json": ["ba7abf0403f717a3"],  # its user label team, 2026-12-06
    "vendors/splunk-alert.json": ["5ac19426155e5721"],  # re-keyed with its owner, 2026-12-06
    "sns/text-message.json": ["85ad1e6de8032c3e"],
    "threshold/host-only.json": ["2c4e9267b177d705"],
    "vendors/datadog-default-triggered.json": ["18721b96c540388f"],  # its monitor_id, 2026-12-06
    "vendors/opsgenie-create.json": ["a4a421e27f5c6c1b"],
    "vendors/pagerduty-triggered.json": ["0640ef1bfda00c14"],
}


def _digest(alert: Alert) -> str:
    blob = json.dumps([alert.fingerprint, alert.labels], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def _alerts(payload: dict[str, Any]) -> tuple[Alert, ...]:
    return normalize_body(json.dumps(payload)).alerts


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_labels_within_the_limits_read_as_before(name: str) -> None:
    """Each reader's alerts within the label limits have the fingerprints and labels they had
    before it built `Labels`, and nothing read besides (no value cut, no label past the cap)."""
    alerts = _alerts(_sample(name))
    assert [_digest(a) for a in alerts] == BEFORE[name]
    assert all(not a.uncut_labels and not a.labels_past_cap for a in alerts)


# --- A long value keys its own group -------------------------------------------------------


def _in_message(
    edit: Callable[[dict[str, Any], str], None],
) -> Callable[[dict[str, Any], str], None]:
    """`edit` applied to an SNS notification's JSON `Message`."""

    def edited(payload: dict[str, Any], value: str) -> None:
        message = json.loads(payload["Message"])
        edit(message, value)
        payload["Message"] = json.dumps(message)

    return edited


def _set(*path: str | int) -> Callable[[dict[str, Any], str], None]:
    """An edit that sets the field at `path` to the value."""

    def edit(payload: dict[str, Any], value: str) -> None:
        node: Any = payload
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return edit


def _topic(payload: dict[str, Any], value: str) -> None:
    payload["TopicArn"] = f"arn:aws:sns:eu-west-1:123456789012:{value}"


#: A value of over 300 characters (an ARN, a dimension value) and the one after it that differs
#: only past the 256 a label shows.
LONG = "arn:aws:states:eu-west-1:123456789012:execution:settlement:" + "run-" * 70


#: (sample, label, edit that puts a value into the field that label shows).
LONG_VALUES = [
    ("cloudwatch/sns-alarm.json", "dimensions",
     _in_message(_set("Trigger", "Dimensions", 0, "value"))),
    ("cloudwatch/eventbridge-alarm.json", "dimensions",
     _set("detail", "configuration", "metrics", 0, "metricStat", "metric", "dimensions",
          "LoadBalancer")),
    ("eventbridge/stepfunctions-execution-failed.json", "resources", _set("resources", 0)),
    ("aws/ssm-invocation-failed.json", "document", _in_message(_set("documentName"))),
    ("vendors/gcp-open.json", "resource", _set("incident", "resource_display_name")),
    ("vendors/splunk-alert.json", "search", _set("search_name")),
    ("sns/text-message.json", "topic", _topic),
    ("threshold/host-only.json", "host", _set("host")),
    ("vendors/datadog-default-triggered.json", "host", _set("hostname")),
    ("vendors/opsgenie-create.json", "alias", _set("alert", "alias")),
    ("vendors/pagerduty-triggered.json", "service", _set("event", "data", "service", "summary")),
]  # fmt: skip


def _read_with(name: str, edit: Callable[[dict[str, Any], str], None], value: str) -> Alert:
    payload = _sample(name)
    edit(payload, value)
    [read] = _alerts(payload)
    return read


@pytest.mark.parametrize(("name", "label", "edit"), LONG_VALUES, ids=[c[0] for c in LONG_VALUES])
def test_a_long_value_keys_its_own_group(
    tmp_path: Path, name: str, label: str, edit: Callable[[dict[str, Any], str], None]
) -> None:
    """Two alerts whose label differs only past the 256 characters it shows are two groups on
    a route grouping by it (the pipeline's own `group_of`), each showing the value cut alike."""
    one, two = (_read_with(name, edit, f"{LONG}{n}") for n in (1, 2))
    assert one.labels[label] == two.labels[label]  # shown alike: cut, "…" marking the cut
    assert one.labels[label].endswith("…")
    assert one.label(label) != two.label(label)
    assert str(one.label(label)).endswith("run-1")  # whole: its end is read
    routes = tmp_path / "routes.toml"
    routes.write_text(
        f'[[route]]\nname = "by-{label}"\nsinks = ["backend"]\ngroup_by = ["{label}"]\n'
        f'[route.match]\nsource = ["{one.source}"]\n'
    )
    pipeline = Cluster(routes=str(routes), replicas=1).pipelines[0]
    keys = [pipeline.group_of(a) for a in (one, two)]
    assert all(isinstance(k, GroupKey) for k in keys)
    assert keys[0] != keys[1] and keys[0].key != keys[1].key  # type: ignore[union-attr]
    assert dict(keys[0].by)[label] == dict(keys[1].by)[label]  # type: ignore[union-attr]


def test_cloudwatch_facts_gathered_apart_keep_their_whole_value() -> None:
    """A CloudWatch fact read apart from the alarm's labels (its metric's dimensions, merged
    after the alarm's own) is shown as before, and read whole by routes (`add_labels`)."""
    facts = common.Labels()
    common.add_label(facts, "dimensions", f"LoadBalancer={LONG}1")
    labels = common.Labels()
    common.add_label(labels, "alarm_name", "orders")
    common.add_labels(labels, facts)
    common.add_labels(labels, {"statistic": "p99"})  # a plain mapping: its values as given
    assert labels == {"alarm_name": "orders", "dimensions": facts["dimensions"], "statistic": "p99"}
    assert labels.uncut == {"dimensions": f"LoadBalancer={LONG}1"}


# --- A local queue URL behind AWS's endpoint -----------------------------------------------

#: A queue on a local SQS (LocalStack, moto, ElasticMQ): port 9 (discard), where nothing listens.
LOCAL_QUEUE = "http://127.0.0.1:9/000000000000/alerts"


def _no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)


def _stopped() -> asyncio.Event:
    """A stop already asked for: a daemon that starts at all returns at once."""
    stop = asyncio.Event()
    stop.set()
    return stop


async def test_the_daemon_refuses_a_local_queue_its_client_sends_to_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage run` with ALERT_TRIAGE_QUEUE_URL on a local SQS and no AWS_ENDPOINT_URL stops
    at start with a ConfigError naming the setting and its value, not a daemon that is never
    ready while AWS refuses each call."""
    from triage.app import run_daemon

    _no_endpoint(monkeypatch)
    monkeypatch.setenv("BACKEND_TOKEN", "t" * 32)  # only the queue is missing something
    settings = Settings(
        queue_url=LOCAL_QUEUE,
        store_url=f"sqlite:///{tmp_path / 'triage.db'}",
        http_port=0,
        metrics="off",
    )
    with pytest.raises(ConfigError) as refused:
        await run_daemon(settings, stop=_stopped())
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:9" in str(refused.value)
    assert "ALERT_TRIAGE_QUEUE_URL" in str(refused.value)
    assert not (tmp_path / "triage.db").exists()  # refused before the store was opened


async def test_the_gateway_refuses_a_local_queue_its_client_sends_to_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`triage ingest` with ALERT_TRIAGE_QUEUE_URL on a local SQS and no AWS_ENDPOINT_URL stops
    at start, before it listens, with a ConfigError naming the setting and its value."""
    from ingest_harness import ingest_settings
    from triage.ingest.service import IngestService

    _no_endpoint(monkeypatch)
    service = IngestService(ingest_settings(LOCAL_QUEUE, None), stop=_stopped())  # type: ignore[arg-type]
    try:
        with pytest.raises(ConfigError) as refused:
            await service.startup()
    finally:
        if service.gateway is not None:  # it started after all: stopped, its port freed
            await service.shutdown()
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:9" in str(refused.value)
    assert "ALERT_TRIAGE_QUEUE_URL" in str(refused.value)
    assert service.gateway is None  # refused before it listened
