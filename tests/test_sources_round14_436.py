"""Alert sources, round 14 (helper 436): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized

_PAYLOADS = Path(__file__).parent / "payloads"


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _skip_reasons(body: dict[str, Any]) -> list[str]:
    """Why `body` changes no ticket: its skips' reasons (and it makes no alert)."""
    read = _read(body)
    assert read.alerts == ()
    return [skip.reason for skip in read.skipped]


def _sample(name: str) -> dict[str, Any]:
    """A shared sample payload, copied so a test may change it."""
    loaded: dict[str, Any] = json.loads((_PAYLOADS / name).read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


# --- Datadog: the default payload of two monitors of one name ---------------------------------

#: The Webhooks integration's default payload carries no monitor id of its own ($ID is the
#: event's, new on every notification), but its $EVENT_MSG ends with the monitor's links:
#: "[[Monitor Status](https://app.datadoghq.com/monitors/<id>?group=…)] · [[Edit Monitor](…)]"
#: (older events "monitors#<id>"; other sites: datadoghq.eu, us3/us5/ap1.datadoghq.com).

_DD_FOOTER = (
    "\n\n- - -\n\n[[Monitor Status](https://{site}/monitors/{id}?group=host%3Aweb-1)] · "
    "[[Edit Monitor](https://{site}/monitors/{id}/edit)]\n%%%"
)


def _dd_default(
    monitor: int, *, site: str = "app.datadoghq.com", recovered: bool = False
) -> dict[str, Any]:
    """The integration's default payload of monitor `monitor` named "CPU high" on web-1."""
    body = _sample("vendors/datadog-default-triggered.json")
    state = "Recovered" if recovered else "Triggered"
    body["title"] = f"[P2] [{state} on {{host:web-1}}] CPU high"
    body["body"] = "%%%\nCPU is high on web-1." + _DD_FOOTER.format(site=site, id=monitor)
    return body


def test_two_datadog_monitors_of_one_name_are_two_incidents() -> None:
    """Two monitors both named "CPU high" (two teams' copies) are two incidents, told apart by
    the monitor id in the message's monitor link: one's recovery must not close the other."""
    first, second = _only(_dd_default(18692904)), _only(_dd_default(18692999))
    assert first.fingerprint != second.fingerprint
    recovered = _only(_dd_default(18692904, recovered=True))
    assert recovered.status is Status.RESOLVED
    assert recovered.fingerprint == first.fingerprint


def test_a_datadog_default_payload_is_keyed_as_its_templated_id_would_key_it() -> None:
    """The id read from the link keys the incident as a template's $ALERT_ID does, and is the
    monitor_id label; a site other than US1 (datadoghq.eu) and an old "#<id>" link alike."""
    templated = _dd_default(18692904)
    templated["alert_id"] = "18692904"
    eu = _only(_dd_default(18692904, site="app.datadoghq.eu"))
    assert eu.labels["monitor_id"] == "18692904"
    old = _sample("vendors/datadog-default-triggered.json")  # "monitors#18692904" links
    assert _only(old).labels["monitor_id"] == "18692904"
    assert _only(_dd_default(18692904)).fingerprint == _only(templated).fingerprint


def test_a_monitor_link_the_user_wrote_keys_nothing() -> None:
    """A link to another monitor the user wrote in the message (a runbook's "see monitor …")
    does not key the alert: the footer Datadog appends does, and without one, the name."""
    body = _dd_default(18692904)
    body["body"] = body["body"].replace(
        "CPU is high", "See [Monitor Status](https://app.datadoghq.com/monitors/5) too. CPU is high"
    )
    assert _only(body).fingerprint == _only(_dd_default(18692904)).fingerprint
    bare = _dd_default(18692904)
    bare["body"] = "%%%\nCPU is high; see https://app.datadoghq.com/monitors/5\n%%%"
    assert "monitor_id" not in _only(bare).labels


# --- Healthchecks.io: the "Test!" button through a generic template ---------------------------

#: Healthchecks' "send test notification" (hc/front/views.py) notifies through the channel a
#: dummy check that is never saved: `Check(name="TEST", status="down")`, no slug, no tags,
#: `n_pings = 42`, a fresh random code. The README's template
#: `{"title": $NAME_JSON, "status": "$STATUS", "dedup_key": "healthchecks-$SLUG"}` then sends
#: the title "TEST" and the key "healthchecks-"; $JSON sends the dummy's `to_dict()`.


def _hc(name: str, slug: str, status: str = "down") -> dict[str, Any]:
    """The README's Healthchecks.io template filled for a check `name` with `slug`."""
    return {"title": name, "status": status, "dedup_key": f"healthchecks-{slug}"}


@pytest.mark.parametrize("status", ["down", "up"])
def test_a_healthchecks_test_notification_opens_no_ticket(status: str) -> None:
    """The test button's dummy check (TEST, no slug) is a test notice, down or up (a channel
    that sends only "up" notifications is tested with up): no ticket is opened or closed."""
    assert _skip_reasons(_hc("TEST", "", status)) == ["test_notification"]


def test_a_healthchecks_test_sent_as_json_opens_no_ticket() -> None:
    """A template that sends $JSON, the check's own object, marks its test the same way."""
    check = {"name": "TEST", "slug": "", "tags": "", "desc": "", "grace": 3600,
             "n_pings": 42, "status": "down", "last_ping": "2026-12-05T20:00:00+00:00"}  # fmt: skip
    body = {"title": "TEST", "status": "down", "source": "healthchecks", "check": check}
    assert _skip_reasons(body) == ["test_notification"]


def test_a_real_check_named_test_still_fires() -> None:
    """A real check named TEST has its slug ("test"): it fires; so does a script's alert
    titled TEST that names no check."""
    assert _only(_hc("TEST", "test")).status is Status.FIRING
    assert _only({"title": "TEST", "status": "down"}).status is Status.FIRING


# --- Splunk: a "for each result" search's rows ------------------------------------------------

#: A saved search whose trigger is "For each result" runs its webhook once per result row, each
#: body with that row as `result` (one run, one sid) and, as its `results_link`, the search of
#: that one row: "…/search?q=|loadjob <sid> | head <n> | tail 1" (percent-encoded; the Zulip
#: fixture of a real-time search has it). A digest ("Once") search sends its first row and a
#: link to all its results, ".../@go?sid=<sid>". Splunk's throttle for a per-result search
#: suppresses "results containing field value", most often `host`.

_SID = "scheduler__admin__search__RMD5e461b39d4ff19c24_at_{run}"
_ROW_LINK = ("https://splunk.example.com:8000/app/search/search?q=%7Cloadjob%20{sid}"
             "%20%7C%20head%20{n}%20%7C%20tail%201&earliest=0&latest=now")  # fmt: skip


def _splunk_row(host: str, n: int, run: str = "1795510980_132") -> dict[str, Any]:
    """The n-th row, about `host`, of one run of the shared sample's search triggered "For
    each result"."""
    body = _sample("vendors/splunk-alert.json")
    sid = _SID.format(run=run)
    body["result"] = {"host": host, "sourcetype": "nginx:error", "count": str(100 * n)}
    body["sid"], body["results_link"] = sid, _ROW_LINK.format(sid=sid, n=n)
    return body


def test_a_per_result_searchs_rows_of_two_hosts_are_two_incidents() -> None:
    """Rows 1 and 2 of one run, about web-3 and web-4, are two problems: two incidents, each
    titled with its host, not one that counts the second as a repeat of the first."""
    web3, web4 = _only(_splunk_row("web-3", 1)), _only(_splunk_row("web-4", 2))
    assert web3.fingerprint != web4.fingerprint
    assert web4.title == "Nginx 5xx burst on web-4"
    assert web4.labels["host"] == "web-4"


def test_a_hosts_row_in_the_next_run_is_the_same_incident() -> None:
    """The same host's row in a later run (another sid, another place, another count) repeats
    its incident."""
    first = _only(_splunk_row("web-3", 1))
    later = _only(_splunk_row("web-3", 2, run="1795511280_140"))
    assert later.fingerprint == first.fingerprint


def test_a_per_result_row_without_a_host_keys_by_its_search() -> None:
    """A per-result row that names no host (blank, or none) is keyed by its search as before."""
    plain = _splunk_row("web-3", 1)
    del plain["result"]["host"]
    blank = _splunk_row("", 2)
    assert _only(plain).identity == {"app": "search", "owner": "admin", "search": "Nginx 5xx burst"}
    assert _only(blank).fingerprint == _only(plain).fingerprint


def test_a_digest_searchs_first_row_keys_nothing() -> None:
    """A digest search's runs, whose first row names another host each time, stay one incident:
    that row is whichever came first, not the problem."""
    body = _sample("vendors/splunk-alert.json")
    other = dict(body, result={"host": "web-9", "count": "90"})
    assert _only(other).fingerprint == _only(body).fingerprint
    assert _only(body).title == "Nginx 5xx burst"


# --- AppDynamics: a health rule's event type as the generic status ----------------------------

#: An AppDynamics HTTP request template fills `${latestEvent.eventType}` with the health rule
#: violation's event type: POLICY_OPEN_CRITICAL and _WARNING (opened), POLICY_CONTINUES_…
#: (still violating, resent), POLICY_UPGRADED (warning to critical) and POLICY_DOWNGRADED,
#: POLICY_CLOSE_… (ended) and POLICY_CANCELED_… (the rule was disabled or changed, or the entity
#: is gone: no close follows); the Alert & Respond API names them HEALTH_RULE_OPEN_CRITICAL ….


def _appd(event_type: str) -> dict[str, Any]:
    """An AppDynamics template's body for incident 4211 with `event_type` as its status."""
    return {
        "title": "Checkout BT response time too high", "status": event_type,
        "dedup_key": "appdynamics-4211", "source": "appdynamics",
        "description": "AppDynamics has detected a problem with Business Transaction /checkout.",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("event_type", "severity"),
    [
        ("POLICY_OPEN_CRITICAL", "critical"), ("POLICY_OPEN_WARNING", "warning"),
        ("POLICY_CONTINUES_CRITICAL", "critical"), ("POLICY_UPGRADED", "critical"),
        ("POLICY_DOWNGRADED", "warning"), ("HEALTH_RULE_OPEN_CRITICAL", "critical"),
        ("HEALTH_RULE_CONTINUES_WARNING", "warning"),
    ],
)  # fmt: skip
def test_an_appdynamics_violation_fires_at_its_level(event_type: str, severity: str) -> None:
    """A violation opened, still going on, upgraded or downgraded fires its incident, ranked
    by the level the event type names (a CRITICAL violation above a WARNING one)."""
    alert = _only(_appd(event_type))
    assert (alert.status, alert.severity) == (Status.FIRING, severity)


@pytest.mark.parametrize(
    "event_type",
    ["POLICY_CLOSE_CRITICAL", "POLICY_CLOSE_WARNING", "POLICY_CANCELED_CRITICAL",
     "HEALTH_RULE_CLOSE_WARNING", "HEALTH_RULE_CANCELED_WARNING"],
)  # fmt: skip
def test_an_appdynamics_violation_closed_or_canceled_resolves_its_incident(
    event_type: str,
) -> None:
    """A violation closed, or canceled (no close will ever follow), resolves the incident its
    open started."""
    opened, ended = _only(_appd("POLICY_OPEN_CRITICAL")), _only(_appd(event_type))
    assert ended.status is Status.RESOLVED
    assert ended.fingerprint == opened.fingerprint


def test_a_word_that_only_looks_like_an_appdynamics_event_is_refused() -> None:
    """An event type AppDynamics never sends (POLICY_OPEN_MINOR) is still an unread status."""
    with pytest.raises(InvalidAlertError):
        _read(_appd("POLICY_OPEN_MINOR"))


# --- Dynatrace: the impacted entities' tags ---------------------------------------------------

#: A problem notification's {Tags} is "a comma-separated list of tags that are defined for all
#: impacted entities", each "key:value" or a bare key, an imported tag with its context in
#: brackets ("[Kubernetes]app:checkout", "[AWS]Name:web-1"): the shared sample sends
#: "env:prod, team:payments".


def _dynatrace(tags: str, state: str = "OPEN") -> dict[str, Any]:
    """The shared Dynatrace problem notification with `tags` as its {Tags}, in `state`."""
    body = _sample("tools/dynatrace-open.json")
    body["Tags"], body["State"] = tags, state
    return body


def test_a_dynatrace_problems_tags_are_labels_and_its_team() -> None:
    """A tag with a value (env:prod, one imported from Kubernetes) is a label by its key, and
    team:payments routes the problem to that team; the tags stay listed as they came."""
    alert = _only(_dynatrace("env:prod, team:payments, [Kubernetes]app:checkout, critical-path"))
    assert (alert.labels["env"], alert.labels["app"], alert.team) == (
        "prod",
        "checkout",
        "payments",
    )
    assert "critical-path" in alert.labels["tags"]


def test_a_dynatrace_tag_keeps_the_readers_labels_and_the_incident() -> None:
    """A tag named as one of the reader's own labels (pid, state) keeps the reader's value; a
    tag added while the problem is open keys no new incident: its resolve closes it."""
    opened = _only(_dynatrace(""))
    tagged = _only(_dynatrace("pid:other, state:fake, env:prod", state="RESOLVED"))
    assert (tagged.labels["pid"], tagged.labels["state"]) == (opened.labels["pid"], "RESOLVED")
    assert tagged.fingerprint == opened.fingerprint
