"""Amazon Redshift Serverless events by EventBridge (`aws_redshift_serverless`): a failure is the
incident of its workgroup or namespace and condition, its documented recovery event resolves
it, an information event changes no ticket, and the detail's keys (which AWS does not
document) never decide how an event is read.

Shapes: the event ids, severities and messages of docs.aws.amazon.com/redshift/latest/mgmt/
serverless-event-notifications-eventbridge.html and the detail types of
docs.aws.amazon.com/eventbridge/latest/ref/events-ref-redshift-serverless.html, in EventBridge's
envelope.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from recording_pipeline import trigger_repeat_recovery
from source_samples import Samples, mutant_failures, one, run, skipped_reasons
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import EffectKind, Status
from triage.normalize import recognise_body
from triage.redact import Redactor
from triage.sinks.github import text as github
from triage.view import redact_alert

SAMPLES = Samples("eventbridge")
FAILED = "redshift-serverless-rpu-change-failed.json"
COMPLETED = "redshift-serverless-rpu-change-completed.json"
KMS = "redshift-serverless-kms-key-invalid.json"
WORKGROUP = (
    "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/"
    "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"
)


sample = SAMPLES.body


def with_event(name: str, number: str, **detail: Any) -> dict[str, Any]:
    """Sample `name` as event REDSHIFT-SERVERLESS-EVENT-`number`, its detail changed."""
    body = sample(name)
    body["detail"] |= {"eventId": f"REDSHIFT-SERVERLESS-EVENT-{number}", **detail}
    return body


def test_a_failed_rpu_change_is_its_workgroups_incident() -> None:
    """Format `eventbridge`, source `eventbridge`: the workgroup's base-RPU-change incident,
    titled by the workgroup and what the event means, not by its detail type."""
    recognised = recognise_body(SAMPLES.path(FAILED).read_bytes())
    assert recognised.format == "eventbridge"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status) == ("eventbridge", Status.FIRING)
    assert alert.identity == {
        "service": "redshift-serverless", "account": "123456789012", "region": "us-east-1",
        "resources": WORKGROUP, "condition": "base-rpu-change",
    }  # fmt: skip
    assert alert.title == (
        "Redshift Serverless workgroup 1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b: base RPU change failed"
    )
    assert alert.labels["event_id"] == "REDSHIFT-SERVERLESS-EVENT-1002"
    assert alert.labels["source_type"] == "workgroup"
    assert "failed to complete" in alert.description


def test_the_completed_change_resolves_the_failed_one() -> None:
    """REDSHIFT-SERVERLESS-EVENT-1001 resolves the incident 1002 opened, and so does it the one
    1029 (failed for disk space) opened: one condition, one fingerprint."""
    failed, completed = one(sample(FAILED)), one(sample(COMPLETED))
    assert completed.status is Status.RESOLVED
    assert completed.fingerprint == failed.fingerprint
    disk = one(with_event(FAILED, "1029"))
    assert (disk.status, disk.fingerprint) == (Status.FIRING, failed.fingerprint)


async def test_fire_repeat_and_resolve_are_one_ticket() -> None:
    """Through the pipeline: the failure opens a ticket, its repeat is counted, the completed
    change closes it."""
    actions, effects = await trigger_repeat_recovery(SAMPLES.path(FAILED), SAMPLES.path(COMPLETED))
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


@pytest.mark.parametrize(
    ("fails", "ends", "condition"),
    [("1011", "1008", "workgroup-creation"), ("1005", "1004", "restore-from-snapshot"),
     ("1007", "1006", "restore-from-recovery-point"), ("1032", "1031", "glue-registration"),
     ("1035", "1034", "glue-deregistration"), ("1036", "1038", "track-update"),
     ("1037", "1038", "track-update"), ("1039", "1040", "kms-key-access")],
)  # fmt: skip
def test_each_documented_recovery_resolves_its_failure(
    fails: str, ends: str, condition: str
) -> None:
    """Every failure the documentation gives an ending event for is resolved by that event,
    and by no other condition's."""
    failure, recovery = one(with_event(KMS, fails)), one(with_event(KMS, ends))
    assert (failure.status, recovery.status) == (Status.FIRING, Status.RESOLVED)
    assert failure.identity["condition"] == recovery.identity["condition"] == condition
    assert failure.fingerprint == recovery.fingerprint
    assert one(with_event(FAILED, "1001")).fingerprint != failure.fingerprint


@pytest.mark.parametrize("number", ["1012", "1013", "1014", "1015", "1048", "1049", "1050",
                                    "1500", "1501", "1502", "1999"])  # fmt: skip
def test_a_failure_with_no_ending_event_fires_as_its_own_condition(number: str) -> None:
    """An error the service never says ended, or an id AWS added after this table, fires as a
    condition of its own (its event id): nothing is lost."""
    alert = one(with_event(KMS, number))
    assert alert.status is Status.FIRING
    assert alert.identity["condition"] == f"REDSHIFT-SERVERLESS-EVENT-{number}"


@pytest.mark.parametrize("number", ["1000", "1003", "1009", "1016", "1030", "1033", "1045",
                                    "1046", "1047"])  # fmt: skip
async def test_an_information_event_changes_no_ticket_and_logs_one_line(number: str) -> None:
    """A snapshot completed, the software updated, a workgroup deleted …: Skipped with one
    `alert.skipped` line, no ticket and no dead letter (read as any other event, each opened
    a ticket that nothing closed)."""
    body = with_event(COMPLETED, number)
    assert [(s.source, s.reason) for s in run(body).skipped] == [("eventbridge", "no_state_change")]
    assert await skipped_reasons(json.dumps(body)) == ["no_state_change"]


def test_the_detail_keys_decide_nothing() -> None:
    """AWS documents no detail keys: the event id and the name are found in any top-level text
    value (or a list of them), in any case, so renamed keys keep the event and its incident."""
    failed = one(sample(FAILED))
    body = sample(FAILED)
    body["detail"] = {
        "id": "redshift-serverless-event-1002",
        "texts": ["Workgroup base RPU change failed to complete at 04:31 UTC."],
    }
    assert one(body).fingerprint == failed.fingerprint


def test_volatile_fields_keep_the_fingerprint() -> None:
    """The event's id, time, message, severity and the order of its resources never key it;
    another workgroup, Region or account is another incident."""
    failed = one(sample(FAILED))
    body = sample(FAILED) | {"id": "other", "time": "2026-12-06T00:00:00Z"}
    body["detail"] |= {"eventMessage": "other text", "severity": "WARN"}
    assert one(body).fingerprint == failed.fingerprint
    namespace = "arn:aws:redshift-serverless:us-east-1:123456789012:namespace/n-1"
    both = one(body | {"resources": [WORKGROUP, namespace]})
    assert one(body | {"resources": [namespace, WORKGROUP]}).fingerprint == both.fingerprint
    for change in ({"resources": [WORKGROUP + "0"]}, {"region": "eu-west-1"},
                   {"account": "210987654321"}):  # fmt: skip
        assert one(body | change).fingerprint != failed.fingerprint


def test_without_resources_the_message_names_the_namespace() -> None:
    """An event with an empty resources list is the namespace (or workgroup) its message names,
    and the same message keeps the same incident."""
    body = sample(KMS) | {"resources": []}
    alert = one(body)
    assert alert.identity["resources"] == "namespace/sales-ns"
    assert alert.title.startswith("Redshift Serverless namespace sales-ns: ")


@pytest.mark.parametrize(
    ("change", "message"),
    [({"resources": []}, "names no workgroup or namespace"),
     ({"resources": "arn"}, "resources"),
     ({"resources": [""]}, r"resources\[\] is missing or empty"),
     ({"account": ""}, "account is missing or empty")],
)  # fmt: skip
def test_a_malformed_event_is_refused_naming_the_field(
    change: dict[str, Any], message: str
) -> None:
    """An event that names no resource (nor a name in its text) or no account cannot be
    keyed: an InvalidAlertError naming the field, so it reaches the dead-letter queue whole."""
    body = sample(FAILED) | change
    with pytest.raises(InvalidAlertError, match=message):
        run(body)


def test_a_cloudtrail_call_is_still_read_as_any_event() -> None:
    """A Redshift Serverless API call by CloudTrail names no event id: it is read as before,
    the call it records."""
    body = sample(FAILED) | {"detail-type": "AWS API Call via CloudTrail"}
    body["detail"] = {"eventSource": "redshift-serverless.amazonaws.com",
                      "eventName": "UpdateWorkgroup"}  # fmt: skip
    alert = one(body)
    assert alert.identity.get("call") == "UpdateWorkgroup"
    assert "condition" not in alert.identity


def test_hostile_text_is_redacted_and_escaped_downstream() -> None:
    """A secret and markup in the event's resource and message: the title takes only the
    resource's id and the documented meaning, and the redacted view and GitHub's issue carry
    neither the secret nor live markup."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    body = copy.deepcopy(sample(FAILED))
    body["resources"] = [f"{WORKGROUP[:-36]}<script>x</script>-aws_secret_access_key={secret}"]
    body["detail"]["eventMessage"] = f"failed <img src=x onerror=alert(1)> key={secret}"
    alert = one(body)
    view = redact_alert(alert, Redactor())
    assert secret not in view.text
    assert "onerror" not in view.title
    assert "<script>" not in github.issue_body(_effect(view))


def _effect(view: Any) -> Any:
    """The smallest effect GitHub's title is written from."""
    from triage.models import Priority, Ticket
    from triage.sinks.base import Effect

    ticket = Ticket(title=view.title, priority=Priority.HIGH, description="d", steps=("s",))
    return Effect(EffectKind.OPEN, view.fingerprint, view, ticket, None, 1, 1, False, "k:1")


@pytest.mark.parametrize("name", [FAILED, COMPLETED, KMS])
def test_every_mutant_gives_bounded_alerts_or_a_clear_permanent_error(name: str) -> None:
    """The fuzzer's check (`test_normalize_fuzz.problem`) on 200 seeded mutants of each sample,
    which the fuzzer does not see until the samples move under tests/payloads/."""
    failures = mutant_failures(SAMPLES.text(name), f"redshift-serverless:{name}")
    assert not failures, "\n".join(failures[:10])
