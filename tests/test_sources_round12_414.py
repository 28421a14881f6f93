"""Alert sources, round 12 (helper 414): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _skip_reasons(body: dict[str, Any]) -> list[str]:
    """Why `body` changes no ticket: its skips' reasons, and no alert."""
    normalized = _read(body)
    assert normalized.alerts == ()
    return [skip.reason for skip in normalized.skipped]


# --- inspector2: a resource's scan coverage coming back resolves, not fires -------------------

#: Amazon Inspector's "Inspector2 Coverage" event (EventBridge, source aws.inspector2): the
#: resource in `resources`, its coverage in `detail.scanStatus` (statusCodeValue ACTIVE or
#: INACTIVE, and a reason from the API's ScanStatusReason: SUCCESSFUL, UNMANAGED_EC2_INSTANCE …).

_INSTANCE = "i-0c2a343f1948d5205"
_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"


def _coverage(
    code: str, reason: str, resource: str = _INSTANCE, scan_type: str = "PACKAGE"
) -> dict[str, Any]:
    """An Inspector2 Coverage event for `resource`, as Amazon Inspector sends it."""
    return {
        "version": "0",
        "id": "000adda5-0fbf-913e-bc0b-1234EXAMPLE",
        "detail-type": "Inspector2 Coverage",
        "source": "aws.inspector2",
        "account": "123456789012",
        "time": "2026-12-06T09:46:15Z",
        "region": "us-east-1",
        "resources": [resource],
        "detail": {
            "scanStatus": {"reason": reason, "statusCodeValue": code},
            "scanType": scan_type,
            "eventTimestamp": "2026-12-06T09:46:15.385Z",
            "versionId": "1.0",
        },
    }


def test_an_instance_no_longer_scanned_fires_and_its_return_resolves() -> None:
    """Inspector losing an instance (not managed by SSM) fires; the same instance scanned
    again (ACTIVE, SUCCESSFUL) resolves that incident rather than opening one of its own."""
    lost = _only(_coverage("INACTIVE", "UNMANAGED_EC2_INSTANCE"))
    back = _only(_coverage("ACTIVE", "SUCCESSFUL"))
    assert (lost.status, back.status) == (Status.FIRING, Status.RESOLVED)
    assert lost.identity == back.identity
    assert lost.title.endswith("UNMANAGED_EC2_INSTANCE")


@pytest.mark.parametrize("reason", ["RESOURCE_TERMINATED", "EXCLUDED_BY_TAG"])
def test_coverage_ended_on_purpose_resolves(reason: str) -> None:
    """A resource no longer scanned because it is gone, or because someone excluded it by
    tag, is no problem to fix: it resolves (nothing later would close an open incident)."""
    assert _only(_coverage("INACTIVE", reason)).status is Status.RESOLVED


def test_a_stopped_instance_changes_no_ticket() -> None:
    """An instance that was stopped is not scanned until it runs again: no ticket change."""
    assert _skip_reasons(_coverage("INACTIVE", "EC2_INSTANCE_STOPPED")) == ["no_state_change"]


def test_a_functions_code_scan_and_package_scan_are_two_incidents() -> None:
    """A Lambda function's code scanning (CODE) that stopped is not closed by its package
    scanning (PACKAGE) being active: each scan type is its own coverage."""
    code = _only(_coverage("INACTIVE", "UNSUPPORTED_RUNTIME", _FUNCTION, "CODE"))
    package = _only(_coverage("ACTIVE", "SUCCESSFUL", _FUNCTION, "PACKAGE"))
    assert code.status is Status.FIRING
    assert code.identity != package.identity


# --- scans that found something were read as a success -----------------------------------------


def _event(source: str, kind: str, detail: dict[str, Any], resources: list[str]) -> dict[str, Any]:
    """An EventBridge event as AWS sends it."""
    return {
        "version": "0",
        "id": "739c0d3c-4f02-85c7-5a88-94a9EXAMPLE",
        "detail-type": kind,
        "source": source,
        "account": "123456789012",
        "time": "2026-12-06T09:03:16Z",
        "region": "us-east-2",
        "resources": resources,
        "detail": detail,
    }


_REPOSITORY = "arn:aws:ecr:us-east-2:123456789012:repository/orders-api"


def _image_scan(counts: dict[str, int], digest: str = "sha256:36c7b282") -> dict[str, Any]:
    """Amazon Inspector's "Inspector2 Scan" of an ECR image (enhanced scanning), as its
    EventBridge reference shows it: the scan status and the findings counted by severity."""
    detail = {
        "scan-status": "INITIAL_SCAN_COMPLETE",
        "repository-name": _REPOSITORY,
        "finding-severity-counts": counts,
        "image-digest": digest,
        "image-tags": ["latest"],
    }
    return _event("aws.inspector2", "Inspector2 Scan", detail, [_REPOSITORY])


def test_an_inspector_image_scan_with_critical_findings_fires_at_their_severity() -> None:
    """An image scan that counted critical vulnerabilities is a critical incident, as ECR's
    own basic scan of the image is, not a completed scan that changes no ticket."""
    alert = _only(_image_scan({"CRITICAL": 7, "HIGH": 61, "MEDIUM": 62, "TOTAL": 130}))
    assert (alert.status, alert.severity) == (Status.FIRING, "CRITICAL")


def test_the_repositorys_next_clean_image_scan_resolves() -> None:
    """The repository's next image that scans without critical or high findings resolves its
    incident; a scan with medium findings only is clean as ECR's scans are read."""
    vulnerable = _only(_image_scan({"HIGH": 2, "TOTAL": 2}))
    clean = _only(_image_scan({"MEDIUM": 3, "TOTAL": 3}, "sha256:9f1e"))
    assert (vulnerable.status, clean.status) == (Status.FIRING, Status.RESOLVED)
    assert vulnerable.identity == clean.identity


_PLAN = "arn:aws:guardduty:us-east-2:123456789012:malware-protection-plan/b4c7f464ab3a4EXAMPLE"


def _object_scan(result: str, key: str = "uploads/invoice.pdf") -> dict[str, Any]:
    """GuardDuty Malware Protection for S3's "GuardDuty Malware Protection Object Scan Result"
    (its EventBridge example): the scanned object and what the scan found."""
    threats = [{"name": "EICAR-Test-File (not a virus)"}] if result == "THREATS_FOUND" else None
    detail = {
        "schemaVersion": "1.0",
        "scanStatus": "COMPLETED",
        "resourceType": "S3_OBJECT",
        "s3ObjectDetails": {
            "bucketName": "customer-uploads",
            "objectKey": key,
            "eTag": "0ee95d1c8f1e8ea3d46e6d1ee76b2b4a",
            "versionId": "d5b4cd2c1fa0",
            "s3Throttled": False,
        },
        "scanResultDetails": {"scanResultStatus": result, "threats": threats},
    }
    return _event(
        "aws.guardduty", "GuardDuty Malware Protection Object Scan Result", detail, [_PLAN]
    )


def test_malware_found_in_an_uploaded_object_fires() -> None:
    """A completed scan that found malware in an object is an incident (high, as GuardDuty's
    MaliciousFile finding ranks it), never a scan that completed and changes no ticket."""
    alert = _only(_object_scan("THREATS_FOUND"))
    assert (alert.status, alert.severity) == (Status.FIRING, "HIGH")
    assert "EICAR-Test-File" in alert.description


def test_malware_in_two_objects_is_two_incidents() -> None:
    """Two infected objects under one protection plan (one resource for both) are two
    incidents: closing one must not close the other."""
    first = _only(_object_scan("THREATS_FOUND", "uploads/a.zip"))
    second = _only(_object_scan("THREATS_FOUND", "uploads/b.zip"))
    assert first.identity != second.identity


def test_a_clean_object_scan_changes_no_ticket() -> None:
    """An object without threats (or one GuardDuty cannot scan, a password-protected
    archive) changes no ticket: every upload would otherwise be one."""
    assert _skip_reasons(_object_scan("NO_THREATS_FOUND")) == ["no_state_change"]
    assert _skip_reasons(_object_scan("UNSUPPORTED")) == ["no_state_change"]


def test_an_object_guardduty_could_not_read_fires() -> None:
    """A scan denied access to the object (the plan's role lost its permission) left it
    unscanned: someone has to fix the role."""
    assert _only(_object_scan("ACCESS_DENIED")).status is Status.FIRING


# --- grafana: a contact point's test with custom labels opened a ticket ------------------------


def _grafana_group(labels: dict[str, str], group_key: str, summary: str) -> dict[str, Any]:
    """A Grafana (10.1+) webhook group of one firing alert, as its webhook contact point
    sends it."""
    return {
        "receiver": "triage",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": summary,
                    "__value_string__": "[ metric='foo' labels={instance=bar} value=10 ]",
                },
                "startsAt": "2026-12-06T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "c6eadffa33fcdf37",
                "silenceURL": "https://grafana.example.com/alerting/silence/new",
                "dashboardURL": "",
                "panelURL": "",
                "values": None,
                "valueString": "[ metric='foo' labels={instance=bar} value=10 ]",
            }
        ],
        "groupLabels": {},
        "commonLabels": labels,
        "commonAnnotations": {"summary": summary},
        "externalURL": "https://grafana.example.com/",
        "version": "1",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "title": f"[FIRING:1]  ({labels.get('alertname', '')})",
        "state": "alerting",
        "message": "**Firing**",
    }


#: What Grafana's contact-point test keys its group by: "<receiver>-<the test alert's
#: fingerprint, 16 hex digits>-<Unix seconds>" (`TestReceivers`), where a rule's group key is
#: the route's matchers and the group's labels ("{}/{…}:{…}").
_TEST_GROUP_KEY = "triage-c6eadffa33fcdf37-1796547600"
_RULE_GROUP_KEY = '{}/{__grafana_receiver__="triage"}:{alertname="DiskFull"}'


def test_a_grafana_contact_point_test_with_custom_labels_opens_no_ticket() -> None:
    """The test dialog's custom labels and annotations replace TestAlert, Grafana and
    "Notification test": the test, keyed by Grafana's test group key, is still a test."""
    custom = {"alertname": "DiskFull", "instance": "db-1", "team": "storage"}
    body = _grafana_group(custom, _TEST_GROUP_KEY, "Disk is full")
    assert _skip_reasons(body) == ["test_notification"]


def test_the_same_alert_from_a_rule_fires() -> None:
    """The same labels from an alert rule's group (a route's group key) are an incident."""
    custom = {"alertname": "DiskFull", "instance": "db-1", "team": "storage"}
    alert = _only(_grafana_group(custom, _RULE_GROUP_KEY, "Disk is full"))
    assert (alert.status, alert.team) == (Status.FIRING, "storage")


# --- generic: a script's `"resolved": true` opened a ticket -------------------------------------


def test_a_generic_alert_sent_resolved_true_resolves_its_incident() -> None:
    """A script that says its alert is over with a JSON boolean (`"resolved": true`, or
    PowerShell's `Resolved = $true`) and no status resolves the incident its firing opened,
    rather than opening one."""
    firing = _only({"title": "Disk full on db-1", "resolved": False})
    resolved = _only({"title": "Disk full on db-1", "resolved": True})
    shell = _only({"title": "Disk full on db-1", "Resolved": True})
    assert (firing.status, resolved.status, shell.status) == (
        Status.FIRING,
        Status.RESOLVED,
        Status.RESOLVED,
    )
    assert firing.identity == resolved.identity == shell.identity


def test_a_stated_status_outranks_the_resolved_flag() -> None:
    """A `status` word says the state, whatever a `resolved` flag says; a `resolved` that is
    no boolean ("yes", a time) is not read as a state."""
    assert _only({"title": "x", "status": "firing", "resolved": True}).status is Status.FIRING
    assert _only({"title": "x", "resolved": "2026-12-06T09:00:00Z"}).status is Status.FIRING


# --- AWS events that say a problem is over fired as new incidents ------------------------------

_CERTIFICATE = "arn:aws:acm:us-east-2:123456789012:certificate/61f50cd4-45b9-4259-b049-d0a53682fa4b"


def _acm(kind: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An ACM event (source aws.acm) about one certificate, as ACM's EventBridge page shows."""
    return _event("aws.acm", kind, {"CommonName": "shop.example.com", **detail}, [_CERTIFICATE])


def test_a_renewed_certificate_resolves_its_expiry_warning() -> None:
    """ACM's "Certificate Available" for a renewal (ISSUANCE, RENEWAL, IMPORT) ends the
    certificate's "Approaching Expiration" incident, which keeps its fingerprint, rather
    than opening a ticket of its own."""
    warning = _only(_acm("ACM Certificate Approaching Expiration", {"DaysToExpiry": 31}))
    renewed = _only(
        _acm(
            "ACM Certificate Available",
            {"Action": "RENEWAL", "CertificateType": "AMAZON_ISSUED", "DaysToExpiry": 395},
        )
    )
    assert (warning.status, renewed.status) == (Status.FIRING, Status.RESOLVED)
    assert warning.identity == renewed.identity
    assert warning.identity["detail_type"] == "ACM Certificate Approaching Expiration"


def test_an_expired_certificate_and_a_renewal_action_are_its_incident() -> None:
    """An expired certificate, or a renewal waiting on validation, is the same certificate's
    incident (one ticket, which the renewal closes), still firing."""
    warning = _only(_acm("ACM Certificate Approaching Expiration", {"DaysToExpiry": 31}))
    expired = _only(_acm("ACM Certificate Expired", {"DaysToExpiry": 0}))
    action = _only(
        _acm(
            "ACM Certificate Renewal Action Required",
            {"DaysToExpiry": 30, "RenewalStatus": "PENDING_VALIDATION"},
        )
    )
    assert expired.status is action.status is Status.FIRING
    assert warning.identity == expired.identity == action.identity


_MANAGED = "arn:aws:ssm:us-east-2:123456789012:managed-instance/i-01234567890abcdef"


def _compliance(status: str, kind: str) -> dict[str, Any]:
    """Systems Manager's "Configuration Compliance State Change" for one managed instance."""
    detail = {
        "last-runtime": "2026-12-06T09:00:00Z",
        "compliance-status": status,
        "resource-type": "managed-instance",
        "resource-id": "i-01234567890abcdef",
        "compliance-type": kind,
    }
    return _event("aws.ssm", "Configuration Compliance State Change", detail, [_MANAGED])


def test_an_instance_back_in_compliance_resolves() -> None:
    """An instance gone non-compliant fires; compliant again resolves that incident."""
    broken = _only(_compliance("non_compliant", "Patch"))
    fixed = _only(_compliance("compliant", "Patch"))
    assert (broken.status, fixed.status) == (Status.FIRING, Status.RESOLVED)
    assert broken.identity == fixed.identity


def test_patch_and_association_compliance_are_two_incidents() -> None:
    """An instance's association compliant again does not close its missing patches."""
    patches = _only(_compliance("non_compliant", "Patch"))
    association = _only(_compliance("compliant", "Association"))
    assert patches.identity != association.identity


_CONTAINER_INSTANCE = (
    "arn:aws:ecs:us-east-2:123456789012:container-instance/default/8f7b2a1e3c4d5e6f7a8b9c0d1e2f3a4b"
)


def _container_instance(status: str, connected: bool) -> dict[str, Any]:
    """ECS's "ECS Container Instance State Change" (sent on every change of the instance:
    its status, its agent's connection, its resources)."""
    detail = {
        "agentConnected": connected,
        "clusterArn": "arn:aws:ecs:us-east-2:123456789012:cluster/default",
        "containerInstanceArn": _CONTAINER_INSTANCE,
        "ec2InstanceId": "i-0e3b4c6d8f0a1b2c3",
        "status": status,
        "version": 14801,
        "updatedAt": "2026-12-06T09:00:00.000Z",
    }
    return _event("aws.ecs", "ECS Container Instance State Change", detail, [_CONTAINER_INSTANCE])


def test_a_container_instances_agent_lost_fires_and_back_resolves() -> None:
    """The instance's agent disconnected fires; the instance active with its agent connected
    (what most of these events say) resolves, and opens no ticket of its own."""
    lost = _only(_container_instance("ACTIVE", connected=False))
    back = _only(_container_instance("ACTIVE", connected=True))
    assert (lost.status, back.status) == (Status.FIRING, Status.RESOLVED)
    assert lost.identity == back.identity


def test_a_draining_container_instance_changes_no_ticket() -> None:
    """An instance someone drains, or deregisters, changes no ticket."""
    assert _skip_reasons(_container_instance("DRAINING", connected=True)) == ["no_state_change"]
    assert _skip_reasons(_container_instance("INACTIVE", connected=False)) == ["no_state_change"]


# --- AWS runs keyed by the run, or not at all -------------------------------------------------

_TASK = "arn:aws:datasync:us-east-2:123456789012:task/task-0a1b2c3d4e5f6a7b8"


def _datasync(state: str, execution: str) -> dict[str, Any]:
    """DataSync's "DataSync Task Execution State Change": the state, and the execution (a
    new id per run, under its task's ARN) in `resources`."""
    return _event(
        "aws.datasync",
        "DataSync Task Execution State Change",
        {"State": state},
        [f"{_TASK}/execution/{execution}"],
    )


def test_a_datasync_tasks_failed_runs_are_one_incident_its_success_resolves() -> None:
    """Two failed runs of one task are one incident, not one per execution id, and the
    task's next run that succeeds resolves it."""
    first = _only(_datasync("ERROR", "exec-0a1b2c3d4e5f6a7b9"))
    again = _only(_datasync("ERROR", "exec-0f9e8d7c6b5a4f3e2"))
    done = _only(_datasync("SUCCESS", "exec-01234567890abcdef"))
    assert first.identity == again.identity == done.identity
    assert (first.status, done.status) == (Status.FIRING, Status.RESOLVED)


def test_two_datasync_tasks_are_two_incidents() -> None:
    """Another task's failure is another incident."""
    mine = _only(_datasync("ERROR", "exec-0a1b2c3d4e5f6a7b9"))
    other = _datasync("ERROR", "exec-0a1b2c3d4e5f6a7b9")
    other["resources"] = [
        "arn:aws:datasync:us-east-2:123456789012:task/task-0ffffffffffffffff/execution/exec-1"
    ]
    assert mine.identity != _only(other).identity


def _emr_serverless(state: str, application: str, run: str, name: str) -> dict[str, Any]:
    """EMR Serverless's "EMR Serverless Job Run State Change" (its resources are empty)."""
    detail = {
        "jobRunId": run,
        "jobRunName": name,
        "applicationId": application,
        "arn": f"arn:aws:emr-serverless:us-east-2:123456789012:/applications/{application}/jobruns/{run}",
        "releaseLabel": "emr-7.1.0",
        "state": state,
        "previousState": "RUNNING",
        "createdBy": "arn:aws:sts::123456789012:assumed-role/etl/runner",
        "updatedAt": "2026-12-06T09:10:00.000Z",
        "createdAt": "2026-12-06T09:00:00.000Z",
    }
    return _event("aws.emr-serverless", "EMR Serverless Job Run State Change", detail, [])


def test_emr_serverless_jobs_of_two_applications_are_two_incidents() -> None:
    """Job runs carry no resources: each application's job (by its name) is its own
    incident, and its next run that succeeds resolves it."""
    nightly = _only(_emr_serverless("FAILED", "00f1982r1uukb925", "00f1cbsc6anuij25", "nightly"))
    other = _only(_emr_serverless("FAILED", "00f19abcd1234567", "00f1cbsc6anuij26", "hourly"))
    next_run = _only(_emr_serverless("SUCCESS", "00f1982r1uukb925", "00f1ddddd", "nightly"))
    assert nightly.identity != other.identity
    assert nightly.identity == next_run.identity
    assert next_run.status is Status.RESOLVED


def _athena(state: str, workgroup: str, query: str) -> dict[str, Any]:
    """Athena's "Athena Query State Change" (its resources are empty)."""
    detail = {
        "currentState": state,
        "previousState": "RUNNING",
        "queryExecutionId": query,
        "sequenceNumber": "3",
        "statementType": "DML",
        "versionId": "0",
        "workgroupName": workgroup,
    }
    return _event("aws.athena", "Athena Query State Change", detail, [])


def test_athena_failures_of_two_workgroups_are_two_incidents() -> None:
    """Queries failing in the ETL workgroup and in the analysts' are two incidents, not one
    per account; the same workgroup's next failure (a new query id) repeats its incident."""
    etl = _only(_athena("FAILED", "etl", "56e2d8c5-0d5c-4ef8-9a9b-1a2b3c4d5e6f"))
    again = _only(_athena("FAILED", "etl", "77f3e9d6-1e6d-5fa9-8b0c-2b3c4d5e6f70"))
    analysts = _only(_athena("FAILED", "analysts", "88a4fae7-2f7e-6ab0-9c1d-3c4d5e6f7081"))
    assert etl.identity == again.identity != analysts.identity


def test_a_workgroups_succeeded_query_changes_no_ticket() -> None:
    """One query that succeeds says nothing of another that failed in its workgroup (an
    analyst's query beside a failing ETL one): it resolves nothing, and opens nothing."""
    assert _skip_reasons(_athena("SUCCEEDED", "etl", "99b5")) == ["no_state_change"]


_IMAGES = "arn:aws:imagebuilder:us-east-2:123456789012:image/golden-al2023"


def _image_build(status: str, version: str) -> dict[str, Any]:
    """EC2 Image Builder's "EC2 Image Builder Image State Change": the build's state, nested
    in `state.status`, and the image build version's ARN (name/version/build) in `resources`."""
    detail = {"previous-state": {"status": "TESTING"}, "state": {"status": status}}
    return _event(
        "aws.imagebuilder",
        "EC2 Image Builder Image State Change",
        detail,
        [f"{_IMAGES}/{version}"],
    )


def test_an_image_build_that_succeeded_resolves_the_images_failed_build() -> None:
    """An image built (AVAILABLE) opens no ticket of its own: it resolves the image's failed
    build, whichever version and build number either had."""
    failed = _only(_image_build("FAILED", "1.0.0/7"))
    built = _only(_image_build("AVAILABLE", "1.0.1/1"))
    assert (failed.status, built.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.identity == built.identity


def test_an_image_build_under_way_changes_no_ticket() -> None:
    """A build that is testing or distributing changes no ticket."""
    assert _skip_reasons(_image_build("DISTRIBUTING", "1.0.1/1")) == ["no_state_change"]


def _amplify(status: str, job: str, branch: str = "main") -> dict[str, Any]:
    """Amplify's "Amplify Deployment Status Change" (the job's ARN in `resources`)."""
    detail = {"appId": "d1a2b3c4e5f6g7", "branchName": branch, "jobId": job, "jobStatus": status}
    arn = f"arn:aws:amplify:us-east-2:123456789012:apps/d1a2b3c4e5f6g7/branches/{branch}/jobs/{job}"
    return _event("aws.amplify", "Amplify Deployment Status Change", detail, [arn])


def test_an_amplify_deploy_that_succeeded_opens_no_ticket_and_resolves() -> None:
    """A successful deployment (SUCCEED, Amplify's word) resolves the branch's failed one
    instead of opening a ticket for every deploy; one starting changes none."""
    failed = _only(_amplify("FAILED", "0000000041"))
    done = _only(_amplify("SUCCEED", "0000000042"))
    assert (failed.status, done.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.identity == done.identity
    assert _skip_reasons(_amplify("STARTED", "0000000043")) == ["no_state_change"]


def test_two_amplify_branches_are_two_incidents() -> None:
    """A failed deploy of the main branch is not closed by a preview branch's success."""
    main = _only(_amplify("FAILED", "0000000041"))
    preview = _only(_amplify("SUCCEED", "0000000007", branch="preview"))
    assert main.identity != preview.identity


# --- secrets manager: a rotation that succeeded opened a ticket --------------------------------

_SECRET = "arn:aws:secretsmanager:us-east-2:123456789012:secret:prod/orders-db-AbCdEf"


def _rotation(call: str, secret: str = _SECRET) -> dict[str, Any]:
    """Secrets Manager's rotation event as EventBridge delivers it ("AWS Service Event via
    CloudTrail", its `eventName` RotationStarted, RotationSucceeded, RotationFailed or
    RotationAbandoned, the secret in `additionalEventData.SecretId`)."""
    detail = {
        "eventVersion": "1.05",
        "userIdentity": {"accountId": "123456789012", "invokedBy": "secretsmanager.amazonaws.com"},
        "eventTime": "2026-12-06T09:00:00Z",
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": call,
        "awsRegion": "us-east-2",
        "sourceIPAddress": "secretsmanager.amazonaws.com",
        "userAgent": "secretsmanager.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "additionalEventData": {"SecretId": secret},
        "requestID": "4b2b8c8e-1d2f-4e5a-9b6c-7d8e9f0a1b2c",
        "eventID": "9c2d4e6f-8a0b-4c2d-9e4f-6a8b0c2d4e6f",
        "readOnly": False,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    }
    return _event("aws.secretsmanager", "AWS Service Event via CloudTrail", detail, [])


def test_a_secrets_rotation_that_succeeded_resolves_its_failure() -> None:
    """A rotation that failed fires; the secret's next rotation that succeeds resolves that
    incident instead of opening one; one starting changes no ticket."""
    failed = _only(_rotation("RotationFailed"))
    done = _only(_rotation("RotationSucceeded"))
    assert (failed.status, done.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.identity == done.identity
    assert _skip_reasons(_rotation("RotationStarted")) == ["no_state_change"]


def test_two_secrets_rotations_are_two_incidents() -> None:
    """Two secrets whose rotation failed are two incidents, not one per account."""
    orders = _only(_rotation("RotationFailed"))
    billing = _only(_rotation("RotationFailed", _SECRET.replace("orders", "billing")))
    assert orders.identity != billing.identity


_STACK_SET = "arn:aws:cloudformation:us-east-2:123456789012:stackset/guardrails:1b2c3d4e-5f6a"


def _stack_set_operation(status: str, operation: str) -> dict[str, Any]:
    """CloudFormation's "CloudFormation StackSet Operation Status Change": the operation's
    state nested in `status-details.status` (RUNNING, SUCCEEDED, FAILED, STOPPING, STOPPED,
    QUEUED)."""
    detail = {
        "stack-set-arn": _STACK_SET,
        "stack-set-operation-id": operation,
        "status-details": {"status": status},
    }
    return _event(
        "aws.cloudformation",
        "CloudFormation StackSet Operation Status Change",
        detail,
        [_STACK_SET],
    )


def test_a_stack_set_operation_that_succeeded_resolves_its_failure() -> None:
    """A stack set's operation that succeeded opens no ticket: it resolves the stack set's
    failed operation (another operation id); one running or queued changes none."""
    failed = _only(_stack_set_operation("FAILED", "op-7f1c"))
    done = _only(_stack_set_operation("SUCCEEDED", "op-8a2d"))
    assert (failed.status, done.status) == (Status.FIRING, Status.RESOLVED)
    assert failed.identity == done.identity
    assert _skip_reasons(_stack_set_operation("RUNNING", "op-9b3e")) == ["no_state_change"]


_CHANNEL = "arn:aws:medialive:us-east-2:123456789012:channel:1234567"


def _channel_alert(state: str, alarm: str, kind: str) -> dict[str, Any]:
    """MediaLive's "MediaLive Channel Alert" (its user guide's example): an alert raised
    (SET) or cleared (CLEARED), `alarm_id` naming that alert on the channel."""
    detail = {
        "alarm_state": state,
        "alarm_id": alarm,
        "alert_type": kind,
        "pipeline": "0",
        "channel_arn": _CHANNEL,
        "message": "Stopped receiving network data on [rtp://:5000]",
    }
    return _event("aws.medialive", "MediaLive Channel Alert", detail, [_CHANNEL])


def test_a_medialive_alert_cleared_resolves_it() -> None:
    """An alert CLEARED resolves the same alert SET (MediaLive writes either case) rather
    than opening a ticket of its own."""
    raised = _only(_channel_alert("SET", "7ad616bd3898", "Stopped Receiving UDP Input"))
    cleared = _only(_channel_alert("cleared", "7ad616bd3898", "Stopped Receiving UDP Input"))
    assert (raised.status, cleared.status) == (Status.FIRING, Status.RESOLVED)
    assert raised.identity == cleared.identity


def test_two_alerts_of_one_channel_are_two_incidents() -> None:
    """A channel's output failure is not closed by its input alert clearing."""
    output = _only(_channel_alert("SET", "4e912d2be849", "Failed to Create Output Group"))
    cleared = _only(_channel_alert("CLEARED", "7ad616bd3898", "Stopped Receiving UDP Input"))
    assert output.identity != cleared.identity
