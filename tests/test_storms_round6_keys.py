"""Round 6 storms: what a group's key and a route's `match.labels` read of an alert's labels.
A value longer than the 256 characters a label shows keys its group whole (shown cut), and a
label past the 64 an alert shows still routes and keys groups; a group keyed by values and
labels within those limits keeps the key it had, so open groups stay open on upgrade."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_redteam_round4_storms import Cluster
from triage.incidents.groups import GroupKey
from triage.incidents.silences import Matcher
from triage.models import IDENTITY_MAX, Alert, Priority
from triage.normalize import common, normalize_body
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.view import redact_alert

#: A route grouping Alertmanager's alerts by alertname, namespace and instance.
ROUTES = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname", "namespace", "instance"]
[route.match]
source = ["alertmanager"]
"""

#: A route taking only the alerts of namespace "shop".
SHOP = """
[[route]]
name = "shop"
sinks = ["backend"]
[route.match]
labels = { namespace = "shop" }
"""

#: Labels Kubernetes alerts joined with `kube_pod_labels` carry, sorted before `namespace`.
POD_LABELS = {f"label_app_kubernetes_io_part{n:02d}": f"v{n}" for n in range(70)}
#: A probed URL of over 300 characters; URLs that differ only past it are two targets.
LONG_URL = "https://shop.example.com/search?" + "&".join(f"facet{n}=x" for n in range(30))


def alert(labels: dict[str, Any]) -> Alert:
    """The one alert an Alertmanager webhook listing an alert with `labels` reads as."""
    body = {"version": "4", "status": "firing", "receiver": "triage", "groupKey": "{}",
            "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                        "startsAt": "2026-11-23T09:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z"}]}  # fmt: skip
    [read] = normalize_body(json.dumps(body)).alerts
    return read


def group_of(tmp_path: Path, labels: dict[str, Any]) -> GroupKey:
    """The group the pipeline puts an alert with `labels` in, on ROUTES."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    key = Cluster(routes=str(routes), replicas=1).pipelines[0].group_of(alert(labels))
    assert key is not None
    return key


def test_keys_of_values_and_alerts_within_the_limits_are_those_of_before(tmp_path: Path) -> None:
    """Values within 256 characters and alerts within 64 labels key their groups as before
    this change (keys computed by the release before it): open groups keep their members."""
    near_limit = {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "api-1",
                  "instance": "https://shop.example.com/" + "p" * 230}  # fmt: skip
    assert len(near_limit["instance"]) == 255
    sixty_two = {"alertname": "KubePodCrashLooping", "namespace": "shop",
                 **{f"label_app_{n:02d}": f"v{n}" for n in range(60)}}  # fmt: skip
    assert group_of(tmp_path, near_limit).key == "2b1bb893b824d32deb544987c727786a"
    assert group_of(tmp_path, sixty_two).key == "e530da04af7f5b7a26d8aaaa47c40235"


def test_values_differing_past_the_cut_key_two_groups_shown_cut(tmp_path: Path) -> None:
    """Two URLs sharing their first 300 (or 2,000) characters key two groups, each showing
    the value as the label shows it: cut, "…" marking the cut. A whole value is held to
    IDENTITY_MAX (its start and a digest of the whole), as an identity's is."""
    for base in (LONG_URL, LONG_URL + "/" + "x" * 2_000):
        one, two = (
            group_of(tmp_path, {"alertname": "ProbeFailed", "instance": f"{base}&page={n}"})
            for n in (1, 2)
        )
        assert one.key != two.key
        shown = dict(one.by)["instance"]
        assert shown == dict(two.by)["instance"]
        assert shown.endswith("…") and len(shown) <= common.LABEL_VALUE_MAX
    held = alert({"alertname": "ProbeFailed", "instance": LONG_URL + "x" * 2_000})
    assert len(held.uncut_labels["instance"]) <= IDENTITY_MAX


def test_a_label_past_the_64_label_cap_keys_its_group(tmp_path: Path) -> None:
    """Pods of two namespaces whose alerts carry 70 `label_*` labels key two groups, each
    showing its namespace, though `namespace` sorts past the 64 labels an alert shows."""
    keys = [
        group_of(tmp_path, {"alertname": "KubePodCrashLooping", **POD_LABELS, "namespace": ns})
        for ns in ("shop", "cart")
    ]
    assert keys[0].key != keys[1].key
    assert [dict(k.by)["namespace"] for k in keys] == ["shop", "cart"]


def test_a_route_matching_a_label_past_the_cap_takes_the_alert(tmp_path: Path) -> None:
    """A route's `match.labels` reads a label the 64-label cap leaves unshown: the alert of
    namespace "shop" with 70 `label_*` labels takes the shop route, one of "cart" does not."""
    routes = tmp_path / "routes.toml"
    routes.write_text(SHOP)
    router = load_router(Settings(routes_file=routes))
    shop = alert({"alertname": "KubePodCrashLooping", **POD_LABELS, "namespace": "shop"})
    cart = alert({"alertname": "KubePodCrashLooping", **POD_LABELS, "namespace": "cart"})
    assert "namespace" not in shop.labels
    assert router.route(shop, Priority.HIGH).name == "shop"
    assert router.route(cart, Priority.HIGH).name == "default"


def test_labels_read_past_the_cap_are_bounded() -> None:
    """An alert of 1,500 labels of 400 characters shows 64 and keeps LABELS_ROUTED_MAX in
    all for routes, whole values included: a hostile alert's labels cost bounded memory."""
    read = alert({f"k{n:04d}": "v" * 400 for n in range(1_500)})
    assert len(read.labels) == common.LABELS_MAX
    assert len(read.labels) + len(read.labels_past_cap) == common.LABELS_ROUTED_MAX
    assert all(len(v) <= common.LABEL_VALUE_MAX for v in read.labels_past_cap.values())
    assert len(read.uncut_labels) == common.LABELS_ROUTED_MAX
    assert read.label("k1023") == "v" * 400 and read.label("k1024") is None


def test_the_values_routes_read_are_never_shown_nor_dumped() -> None:
    """What routes read past the shown labels stays in the process: an alert's dump (the
    `normalize` command prints it) and its redacted view show 64 labels, cut."""
    read = alert({"alertname": "ProbeFailed", **POD_LABELS, "instance": LONG_URL})
    assert read.label("instance") == LONG_URL and read.label("label_app_kubernetes_io_part69")
    dumped = read.model_dump(mode="json", exclude={"raw"})
    assert "labels_past_cap" not in dumped and "uncut_labels" not in dumped
    assert len(dumped["labels"]) == common.LABELS_MAX
    assert LONG_URL not in json.dumps(dumped["labels"])
    view = redact_alert(read, Redactor())
    assert len(view.labels) == common.LABELS_MAX
    assert view.labels["instance"].endswith("…")
    assert "label_app_kubernetes_io_part69" not in view.labels


def test_a_label_added_again_reads_as_its_newest_value() -> None:
    """A normaliser that sets a label again (Grafana's own labels over its tags) is read as
    it set it last: a long value it replaced keys no group, and one past the cap set again
    is read as set again."""
    labels = common.labels_from({"instance": LONG_URL, **POD_LABELS})
    common.add_label(labels, "instance", "db-1")
    common.add_label(labels, "zone", "eu-1")
    common.add_label(labels, "zone", "eu-2")
    read = Alert(source="grafana", status="firing", title="t", labels=labels,
                 occurred_at="2026-11-23T09:00:00Z", identity={"id": "1"})  # fmt: skip
    assert read.label("instance") == "db-1"
    assert read.label("zone") == "eu-2"
    assert read.uncut_labels == {}


def test_a_silence_on_a_label_past_the_cap_quiets_the_alert() -> None:
    """A silence `namespace=shop` holds for a pod alert whose `namespace` sorts past the 64
    labels it shows, as its route and group read it, and not for another namespace's."""
    shop = alert({**POD_LABELS, "alertname": "KubePodCrashLooping", "namespace": "shop"})
    other = alert({**POD_LABELS, "alertname": "KubePodCrashLooping", "namespace": "search"})
    assert "namespace" not in shop.labels  # past the cap: not shown
    matcher = Matcher.parse("namespace=shop")
    assert matcher.holds(shop)
    assert not matcher.holds(other)
