"""Every reader against structurally hostile JSON: seeded mutants of every sample under
tests/payloads (`json_mutants`) give alerts within their documented bounds, or a
PermanentError of the normaliser's own with a one-line reason; never a crash wrapped as one,
never another exception, never an alert made of garbage.

A failure names the sample, the seed, the mutant's number and the mutations that made its
body: `json_mutants.mutants(body, seed, number + 1)` ends with it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from json_mutants import Mutant, mutants
from triage.errors import InvalidAlertError, PermanentError, TriageError
from triage.models import Alert, identity_text
from triage.normalize import Normalized, common, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))
#: Changing it changes every mutant; a failure prints the seed it ran with. A longer search
#: sets both in the environment: FUZZ_SEED=x FUZZ_MUTANTS_PER_SAMPLE=1000 pytest this file.
SEED = os.environ.get("FUZZ_SEED", "triage-fuzz-1")
#: 30 a sample (6,030 mutants of 201 samples) keep the file to a few seconds.
MUTANTS_PER_SAMPLE = int(os.environ.get("FUZZ_MUTANTS_PER_SAMPLE", "30"))

#: What one-line text (titles, label values, teams, error reasons) never holds.
ONE_LINE_BANNED = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: Python's way of writing null, booleans and containers: garbage where text belongs.
PYTHON_REPR = re.compile(r"\b(?:None|True|False)\b|\{'|\['|'\}|'\]")
#: An error's reason goes to a log line and the gateway's answer: one line, not an essay.
REASON_MAX = 2_000


def problem(mutant: Mutant) -> str | None:
    """What is wrong with how the normaliser answered `mutant`, or None. Every other mutant
    goes as UTF-8 bytes, as the gateway hands a body over, the rest as text, as SQS does."""
    body = mutant.body.encode() if mutant.number % 2 else mutant.body
    try:
        result = normalize_body(body, sentry_resource=mutant.sentry_resource)
    except PermanentError as exc:
        return _error_problem(exc)
    except Exception as exc:
        return f"escaped {type(exc).__name__}: {common.short(str(exc), 120)}"
    return _result_problem(result, mutant.body)


def _error_problem(exc: PermanentError) -> str | None:
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, TriageError):
        return f"crash wrapped as {type(exc).__name__}: {type(cause).__name__}: {exc}"[:400]
    reason = str(exc)
    if not reason or len(reason) > REASON_MAX or ONE_LINE_BANNED.search(reason):
        return f"unclear reason ({len(reason)} chars): {reason[:120]!r}"
    return None


def _result_problem(result: Normalized, body: str) -> str | None:
    told = [*result.notes, *(skip.detail for skip in result.skipped)]
    for line in told:
        if not isinstance(line, str) or len(line) > REASON_MAX or ONE_LINE_BANNED.search(line):
            return f"note or skip detail {str(line)[:80]!r}"
        leaked = PYTHON_REPR.search(line)
        if leaked and leaked[0] not in body:
            return f"Python repr in a note or skip detail: {line[:80]!r}"
    for alert in result.alerts:
        found = _alert_problem(alert, body)
        if found:
            return f"alert {alert.source}: {found}"
    return None


def _alert_problem(alert: Alert, body: str) -> str | None:
    one_line = {"title": alert.title, "team": alert.team, "severity": alert.severity}
    for name, value in one_line.items():
        if value is not None and (not value or ONE_LINE_BANNED.search(value)):
            return f"{name} {value[:60]!r} is empty or not one line"
    if len(alert.title) > common.TITLE_MAX:
        return f"title of {len(alert.title)} characters"
    for name, value in (("team", alert.team), ("severity", alert.severity)):
        if value is not None and len(value) > common.FIELD_MAX:
            return f"{name} of {len(value)} characters"
    if len(alert.description) > common.DESCRIPTION_MAX:
        return f"description of {len(alert.description)} characters"
    if not alert.identity:
        return "no identity"
    for key, value in alert.identity.items():
        if len(key) > common.IDENTITY_MAX or len(value) > common.IDENTITY_MAX:
            return f"identity {key[:40]!r} of {len(value)} characters (its name {len(key)})"
    if len(alert.labels) > common.LABELS_MAX or any(
        len(k) > common.LABEL_KEY_MAX
        or len(v) > common.LABEL_VALUE_MAX
        or ONE_LINE_BANNED.search(v)
        for k, v in alert.labels.items()
    ):
        return "labels over their bounds"
    linked = [alert.runbook_url or "", *alert.links.values()]
    if any(len(link) > common.URL_MAX for link in linked):
        return "a link over its bound"
    shown = {"title": alert.title, "description": alert.description, **one_line}
    for name, value in [*shown.items(), *alert.labels.items()]:
        leaked = PYTHON_REPR.search(value or "")
        if leaked and leaked[0] not in body:
            return f"Python repr in {name}: {(value or '')[:60]!r}"
    if alert.occurred_at.tzinfo is None:
        return "occurred_at without a zone"
    alert.model_dump_json().encode("utf-8")  # stored and logged as UTF-8
    return None


def _seed(name: str) -> str:
    return f"{SEED}:{name}"


@pytest.mark.parametrize("name", SAMPLES)
def test_every_mutant_of_a_sample_gives_bounded_alerts_or_a_clear_permanent_error(
    name: str,
) -> None:
    """Every seeded structural mutant of the sample normalises to alerts within bounds or a
    PermanentError of our own, with no other exception escaping."""
    body = (PAYLOADS / name).read_text(encoding="utf-8")
    failures = []
    for mutant in mutants(body, _seed(name), MUTANTS_PER_SAMPLE):
        try:
            found = problem(mutant)
        except BaseException as exc:  # a hang stopped by the test's timeout names its mutant
            exc.add_note(f"{name}, {mutant.describe(_seed(name))}")
            raise
        if found:
            failures.append(f"{name}, {mutant.describe(_seed(name))}: {found}")
    assert not failures, "\n".join(failures[:10])


def test_the_mutants_are_the_same_on_every_run() -> None:
    """One seed gives the same mutants twice, so a failure's seed reproduces it."""
    body = (PAYLOADS / "alertmanager/group-firing.json").read_text(encoding="utf-8")
    first = [m.steps for m in mutants(body, "s", 30)]
    assert first == [m.steps for m in mutants(body, "s", 30)]
    assert first != [m.steps for m in mutants(body, "t", 30)]


def test_an_sns_message_is_mutated_inside_its_string() -> None:
    """The JSON text in an SNS envelope's Message is mutated as JSON and written back as a
    string, so the readers behind the envelope are fuzzed too."""
    body = (PAYLOADS / "sns/amp-alertmanager-firing.json").read_text(encoding="utf-8")
    inside = [m for m in mutants(body, "sns", 200) if all("⟨json⟩." in s for s in m.steps)]
    assert inside
    message = json.loads(inside[0].body)["Message"]
    assert isinstance(message, str) and message != json.loads(body)["Message"]


# --- what the fuzzer found, one test per class ----------------------------------------------


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("name", ["alertmanager/group-firing.json", "grafana/group-firing.json"])
def test_a_label_set_past_the_identity_limit_is_held_to_it(name: str) -> None:
    """A label set is an alert's identity: a label name or value past 1,024 characters is
    hashed and kept as its start and a digest of the whole (as every other identity value
    is), within 1,024."""
    body = _sample(name)
    labels = body["alerts"][0]["labels"]
    labels["instance"] = "i" * 5_000
    labels["k" * 5_000] = "v"
    identity = normalize_body(json.dumps(body)).alerts[0].identity
    assert identity["instance"] == identity_text("i" * 5_000)
    assert identity[identity_text("k" * 5_000)] == "v"
    assert identity["alertname"] == labels["alertname"]


def test_an_events_resources_past_the_identity_limit_are_cut_to_it() -> None:
    """An EventBridge event identified by its resources keeps at most 1,024 characters of
    them, however many it names."""
    body = _sample("eventbridge/ec2-instance-stopped.json")
    arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-"
    body["resources"] = [f"{arn}{n:0200d}" for n in range(8)]
    identity = normalize_body(json.dumps(body)).alerts[0].identity
    assert max(map(len, identity.values())) <= common.IDENTITY_MAX
    assert identity["resources"].startswith(body["resources"][0])


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("cloudwatch/raw-alarm.json", ("AlarmName",)),
        ("cloudwatch/eventbridge-alarm.json", ("detail", "alarmName")),
        ("eventbridge/health-issue.json", ("detail", "eventArn")),
    ],
)
def test_a_link_made_past_the_url_limit_is_left_out(name: str, field: tuple[str, ...]) -> None:
    """A link a reader makes from a long name (each "é" percent-encoded to six characters) is
    left out once it passes 2,048 characters, as a link the sender gave is; the alert stays."""
    body = _sample(name)
    node = body
    for step in field[:-1]:
        node = node[step]
    node[field[-1]] = node[field[-1]] + "é" * 1_000
    (alert,) = normalize_body(json.dumps(body)).alerts
    assert all(len(link) <= common.URL_MAX for link in alert.links.values())
    assert alert.title


def test_an_expiring_certificate_of_an_unnamed_monitor_is_titled_by_the_monitor() -> None:
    """An UptimeRobot expiry notice with no monitor name or URL names its monitor id in the
    title, never Python's None."""
    body = _sample("uptimerobot/ssl-expiry.json")
    del body["monitorFriendlyName"], body["monitorURL"]
    (alert,) = normalize_body(json.dumps(body)).alerts
    assert alert.title == "Certificate or domain of monitor 797745302 expires soon"


@pytest.mark.parametrize("duration", ["²", "٣", "1" * 5_000, 10**30, "12abc", -5, True])
def test_a_duration_that_is_no_count_of_seconds_is_left_out(duration: Any) -> None:
    """An UptimeRobot duration that int() cannot read whole (a superscript digit, which
    str.isdigit() takes; more than 4,300 digits) or that no monitor was down for is left out
    of the description, and the alert stays."""
    body = _sample("uptimerobot/up.json")
    body["alertDuration"] = duration
    (alert,) = normalize_body(json.dumps(body)).alerts
    assert "Down for" not in alert.description


def test_a_duration_in_digits_is_shown() -> None:
    """A duration given as digits, with spaces around them, is shown in seconds."""
    body = _sample("uptimerobot/up.json")
    body["alertDuration"] = " 120 "
    (alert,) = normalize_body(json.dumps(body)).alerts
    assert "Down for 120 s." in alert.description


def _wrapped_crash() -> PermanentError:
    try:
        try:
            int("²")
        except ValueError as exc:
            raise InvalidAlertError("x: malformed payload (ValueError)") from exc
    except InvalidAlertError as wrapped:
        return wrapped
    raise AssertionError("unreachable")


def test_the_oracle_tells_a_wrapped_crash_and_garbage_from_a_clean_answer() -> None:
    """What the fuzzer checks can fail: a crash wrapped as a permanent error, an identity past
    its limit and Python's None in a title are each named, a deliberate error and a sample's
    own alert are not."""
    assert "ValueError" in (_error_problem(_wrapped_crash()) or "")
    assert _error_problem(InvalidAlertError("title is missing or empty")) is None
    body = (PAYLOADS / "generic/firing.json").read_text(encoding="utf-8")
    (alert,) = normalize_body(body).alerts
    assert _alert_problem(alert, body) is None
    # The model holds every identity to its limit; only model_construct skips it.
    too_long = Alert.model_construct(
        **{**dict(alert), "identity": {"k": "v" * (common.IDENTITY_MAX + 1)}}
    )
    assert "identity" in (_alert_problem(too_long, body) or "")
    python_none = alert.model_copy(update={"title": "Disk of None is full"})
    assert "Python repr" in (_alert_problem(python_none, body) or "")


@pytest.mark.parametrize("severity", [10**400, -(10**400), 10**309])
def test_a_guardduty_severity_past_a_floats_range_is_no_severity(severity: int) -> None:
    """A GuardDuty severity that is an integer no float can hold (10**400) is no severity,
    as 99 is, rather than an InvalidAlertError wrapping OverflowError; the finding stays."""
    body = _sample("eventbridge/guardduty-finding.json")
    body["detail"]["severity"] = severity
    (alert,) = normalize_body(json.dumps(body)).alerts
    assert alert.severity is None
