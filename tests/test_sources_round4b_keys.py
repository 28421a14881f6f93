"""Round 4b's keys: each source's alert is keyed by what stays the same across the tool's
notices about one problem (the check, the rule and resource, the monitor, the policy's time
series), never by an id the tool makes anew for each notice or outage.

Pingdom: an uptime check and a transaction check that share a number are two incidents.
Azure: a metric (or Azure Prometheus) rule's alert instances about one resource are one.
Better Stack: a monitor's (or heartbeat's) outages are one. Cloud Monitoring: a policy
condition's incidents about one time series are one.
"""

from __future__ import annotations

import copy
from typing import Any

from source_samples import Samples, one, run

TOOLS = Samples("tools")
VENDORS = Samples("vendors")
BETTERSTACK = Samples("betterstack")
GCP = Samples("gcp")


def _fingerprint(body: dict[str, Any]) -> str:
    return one(body).fingerprint


# --- Pingdom ------------------------------------------------------------------------------------


def _pingdom(check_type: str | None, state: str) -> dict[str, Any]:
    body = TOOLS.body("pingdom-http-down.json")
    body["current_state"] = state
    if check_type is None:
        del body["check_type"]
    else:
        body["check_type"] = check_type
    return body


def test_a_pingdom_transaction_check_is_not_the_uptime_check_of_its_number() -> None:
    """A transaction check's FAILING and an HTTP check's DOWN of one check_id are two
    incidents, and each one's recovery shares its own fingerprint."""
    uptime = {_fingerprint(_pingdom("HTTP", s)) for s in ("DOWN", "UP")}
    transaction = {_fingerprint(_pingdom("TRANSACTION", s)) for s in ("FAILING", "SUCCESS")}
    assert len(uptime) == len(transaction) == 1
    assert uptime != transaction


def test_a_pingdom_checks_kind_is_known_by_its_states_when_no_type_is_sent() -> None:
    """Without check_type, FAILING and SUCCESS (only transaction checks say them) key the
    transaction check, DOWN and UP the uptime check; every uptime type is the uptime check."""
    assert _fingerprint(_pingdom(None, "FAILING")) == _fingerprint(
        _pingdom("transaction", "SUCCESS")
    )
    uptime = {_fingerprint(_pingdom(kind, "DOWN")) for kind in (None, "HTTP", "TCP", "PING")}
    assert uptime == {_fingerprint(TOOLS.body("pingdom-http-down.json"))}


# --- Azure Monitor ------------------------------------------------------------------------------


def _azure(instance: str, **essentials: Any) -> dict[str, Any]:
    body = VENDORS.body("azure-fired.json")
    given = body["data"]["essentials"]
    given["alertId"] = given["alertId"].rsplit("/", 1)[0] + f"/{instance}"
    given |= essentials
    return body


def _with_dimensions(body: dict[str, Any], *pairs: tuple[str, str]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    criterion = body["data"]["alertContext"]["condition"]["allOf"][0]
    criterion["dimensions"] = [{"name": name, "value": value} for name, value in pairs]
    return body


def test_an_azure_metric_rules_alert_instances_about_one_resource_are_one_incident() -> None:
    """Two alert instances of a metric rule on one VM (a stateless rule's repeat, a stateful
    rule's next firing) and a Resolved share one fingerprint."""
    fired = _fingerprint(_azure("aaaa1111"))
    again = _fingerprint(_azure("bbbb2222"))
    resolved = _fingerprint(_azure("aaaa1111", monitorCondition="Resolved"))
    assert fired == again == resolved


def test_an_azure_metric_rule_keys_its_resources_and_dimensions_apart() -> None:
    """The rule's alert about another VM, another dimension value, or another rule is
    another incident; the order Azure lists targets in is not."""
    base = _azure("aaaa1111")
    other_vm = _azure("aaaa1111", alertTargetIDs=["/subscriptions/x/vm/orders-api-2"])
    other_rule = _azure("aaaa1111", alertRule="orders-api memory")
    by_disk = [_with_dimensions(base, ("LUN", str(n))) for n in (0, 1)]
    keys = [_fingerprint(b) for b in (base, other_vm, other_rule, *by_disk)]
    assert len(set(keys)) == len(keys)
    two = ["/subscriptions/x/vm/a", "/subscriptions/x/vm/b"]
    assert _fingerprint(_azure("a", alertTargetIDs=two)) == _fingerprint(
        _azure("b", alertTargetIDs=two[::-1])
    )


def _azure_prometheus(instance: str, pod: str) -> dict[str, Any]:
    """An Azure Managed Prometheus rule's alert: its series' labels in `alertContext.labels`."""
    body = _azure(instance, monitoringService="Prometheus", alertRule="KubePodCrashLooping")
    body["data"]["alertContext"] = {
        "interval": "PT1M", "expression": "max_over_time(kube_pod_status_ready[5m]) == 0",
        "expressionValue": "0", "for": "PT15M",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": pod},
        "annotations": {"description": f"{pod} is crash looping"},
        "ruleGroup": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.AlertsManagement/"
        "prometheusRuleGroups/kube",
    }  # fmt: skip
    return body


def test_an_azure_prometheus_rules_alerts_are_keyed_by_their_series_labels() -> None:
    """An Azure Prometheus rule's alert instances about one pod are one incident; another
    pod's are another (its labels are its dimensions)."""
    first, again = _azure_prometheus("p1", "web-1"), _azure_prometheus("p2", "web-1")
    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first) != _fingerprint(_azure_prometheus("p3", "web-2"))


def test_an_azure_activity_log_alert_stays_keyed_by_its_instance() -> None:
    """An activity log alert is one event, not a condition that holds: two instances of one
    rule on one resource are two incidents, as before."""
    kind = {"signalType": "Activity Log", "monitoringService": "Activity Log - Administrative"}
    assert _fingerprint(_azure("a", **kind)) != _fingerprint(_azure("b", **kind))


# --- Better Stack -------------------------------------------------------------------------------


def _betterstack(incident: str, event: str = "started", **related: str) -> dict[str, Any]:
    body = BETTERSTACK.body("incident-started.json")
    body["event"] = event
    body["data"]["id"] = incident
    if related:
        body["data"]["relationships"] = {
            kind: {"data": {"id": ident, "type": kind}} for kind, ident in related.items()
        }
    return body


def test_a_better_stack_monitors_outages_are_one_incident() -> None:
    """Two incidents of monitor 1123 (two outages) and their resolves share one fingerprint;
    another monitor's is another; each alert keeps its incident's id as a label."""
    outages = [_betterstack(i, e) for i in ("318462", "318470") for e in ("started", "resolved")]
    assert len({_fingerprint(b) for b in outages}) == 1
    assert _fingerprint(_betterstack("318480", monitor="2234")) != _fingerprint(outages[0])
    assert one(outages[2]).labels["incident_id"] == "318470"


def test_a_better_stack_heartbeat_is_keyed_by_it_and_a_bare_incident_by_its_id() -> None:
    """A heartbeat's incidents are one incident, apart from a monitor of the same number;
    an incident naming neither (made by hand) is keyed by its own id."""
    beats = {_fingerprint(_betterstack(i, heartbeat="77")) for i in ("1", "2")}
    assert len(beats) == 1
    assert beats != {_fingerprint(_betterstack("1", monitor="77"))}
    bare = [_betterstack(i) for i in ("5", "6")]
    for body in bare:
        del body["data"]["relationships"]
    assert _fingerprint(bare[0]) != _fingerprint(bare[1])


# --- Google Cloud Monitoring --------------------------------------------------------------------


def _gcp(folder: Samples, name: str, incident_id: str, **changes: Any) -> dict[str, Any]:
    body = folder.body(name)
    body["incident"] |= {"incident_id": incident_id} | changes
    return body


def test_a_gcp_policys_incidents_about_one_time_series_are_one_incident() -> None:
    """An uptime check's and a metric policy's new incidents (each outage has its own id)
    share the first one's fingerprint, with its close; each keeps its id as a label."""
    for folder, opened, closed in (
        (GCP, "uptime-open.json", "uptime-closed.json"),
        (VENDORS, "gcp-open.json", "gcp-closed.json"),
    ):
        bodies = [_gcp(folder, n, i) for n in (opened, closed) for i in ("0.aaa", "0.bbb")]
        assert len({_fingerprint(b) for b in bodies}) == 1, opened
        assert one(bodies[1]).labels["incident_id"] == "0.bbb"


def test_a_gcp_policy_keys_its_resources_conditions_and_series_apart() -> None:
    """Another resource, another condition, another policy or another series of one
    resource (its metric labels) is another incident."""
    base = _gcp(VENDORS, "gcp-open.json", "0.aaa")
    resource = base["incident"]["resource"]
    others = [
        _gcp(VENDORS, "gcp-open.json", "0.b",
             resource=resource | {"labels": resource["labels"] | {"instance_id": "9"}}),
        _gcp(VENDORS, "gcp-open.json", "0.c",
             condition={"name": "projects/shop-prod/alertPolicies/123/conditions/789",
                        "displayName": "VM CPU above 95%"}),
        _gcp(VENDORS, "gcp-open.json", "0.d",
             metric=base["incident"]["metric"] | {"labels": {"instance_name": "gke-web-2"}}),
    ]  # fmt: skip
    uptime = GCP.body("uptime-open.json")
    renamed = _gcp(GCP, "uptime-open.json", "0.e", policy_name="api - noc - orders")
    keys = [_fingerprint(b) for b in (base, *others, uptime, renamed)]
    assert len(set(keys)) == len(keys)


def test_a_gcp_incident_naming_no_policy_is_keyed_by_its_id() -> None:
    """An incident that names no policy or condition cannot be told apart from another
    policy's: it stays keyed by its incident id."""
    bodies = [GCP.body("uptime-open.json") for _ in range(2)]
    for n, body in enumerate(bodies):
        body["incident"] |= {"incident_id": f"0.{n}"}
        del body["incident"]["policy_name"], body["incident"]["condition_name"]
    assert _fingerprint(bodies[0]) != _fingerprint(bodies[1])
    assert run(bodies[0]).alerts[0].labels["incident_id"] == "0.0"
