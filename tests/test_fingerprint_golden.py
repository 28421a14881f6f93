"""Golden fingerprints: every sample payload's fingerprints, pinned so no release changes them.

A fingerprint keys every stored incident and the hidden marker in every open ticket. If one of
these fails, the change re-keys incidents in production (duplicate tickets, orphaned ones): make
it only on purpose, for the sources it must (bumping FINGERPRINT_VERSION would re-key every
source), with a note in the README's "Upgrading" section, then re-pin the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.models import fingerprint_of
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"

#: payload file → fingerprints of its alerts, in order (() when it is skipped on purpose).
GOLDEN: dict[str, tuple[str, ...]] = {
    "alertmanager/group-firing.json": (
        "4b0b9de99d319af52313fa3aa762bea9",
        "b43427bb484020e584dcb92d51e0b59f",
        "f684110fbf2918f8bfaa28a377a91431",
    ),
    "alertmanager/group-resolved.json": ("4b0b9de99d319af52313fa3aa762bea9",),
    # AWS's SNS JSON template (sns_configs, Amazon Managed Prometheus): the webhook's fingerprints.
    "alertmanager/sns-template-raw.json": (
        "4b0b9de99d319af52313fa3aa762bea9",
        "b43427bb484020e584dcb92d51e0b59f",
    ),
    "cloudwatch/eventbridge-alarm.json": ("dcb9c95b8b2d470a9e04628f664221b8",),
    # A Metrics Insights alarm's contributor: its EventBridge event and its SNS message alike.
    "cloudwatch/eventbridge-contributor.json": ("9ef25f165be6d3bffe42298a6265f59f",),
    "cloudwatch/sns-contributor.json": ("9ef25f165be6d3bffe42298a6265f59f",),
    # The payload an alarm's Lambda action receives, forwarded to the queue.
    "cloudwatch/lambda-action.json": ("ab241aad84bf5d4cd2c6ea43b73ce794",),
    "cloudwatch/eventbridge-composite.json": ("756ae5a9b58150ea624c025c244c08b4",),
    "cloudwatch/eventbridge-metric-math.json": ("ad83839321fc678da689a65b04212d3c",),
    "cloudwatch/raw-alarm-null-description.json": ("dcb9c95b8b2d470a9e04628f664221b8",),
    "cloudwatch/raw-alarm.json": ("dcb9c95b8b2d470a9e04628f664221b8",),
    "cloudwatch/raw-metric-math.json": ("ad83839321fc678da689a65b04212d3c",),
    "cloudwatch/sns-alarm-eu-west-1.json": ("03448b77685c927104f3e806ff67c3ac",),
    "cloudwatch/sns-alarm-long-name.json": ("136eb41f6bb159f540ad6ba22af2628e",),
    "cloudwatch/sns-alarm-no-arn.json": ("dcb9c95b8b2d470a9e04628f664221b8",),
    "cloudwatch/sns-alarm-other-account.json": ("753419918b085a2a90df2a52bae3951e",),
    "cloudwatch/sns-alarm.json": ("dcb9c95b8b2d470a9e04628f664221b8",),
    "cloudwatch/sns-eventbridge-ok.json": ("dcb9c95b8b2d470a9e04628f664221b8",),
    "cloudwatch/sns-insufficient-data.json": (),
    "cloudwatch/sns-ok.json": ("dcb9c95b8b2d470a9e04628f664221b8",),
    # EventBridge events other than CloudWatch alarms: AWS Health (open and closed share one),
    # GuardDuty (direct and through SNS share one), Security Hub, and any other service.
    "eventbridge/securityhub-findings-v2.json": ("3e64186f8d1599341dcc2d6f6c165195",),
    "eventbridge/securityhub-guardduty-finding.json": ("c268210196fa0d4e497fc371e94e2ae7",),
    "eventbridge/securityhub-inspector-finding.json": ("6efe5c259f1a9e22cbc582a6b4e7b209",),
    "eventbridge/securityhub-v2-guardduty-finding.json": ("c268210196fa0d4e497fc371e94e2ae7",),
    "eventbridge/cloudtrail-root-login.json": ("f881c820c67e258f67b5d941562fe069",),
    "eventbridge/ecs-task-stopped.json": ("72f9a4e310d4cc3800fa32f6237d4a51",),
    "eventbridge/guardduty-finding.json": ("c268210196fa0d4e497fc371e94e2ae7",),
    # An insight's events share its id's incident; a canary's failed and passed runs its
    # name's; a Trusted Advisor item with no resource_id is keyed by what its details name;
    # a Lambda failure put on a bus is keyed as its record sent to an SQS destination is.
    "eventbridge/devops-guru-insight-open.json": ("e7cc746e4cfa47fadc518b28e15de669",),
    "eventbridge/devops-guru-insight-closed.json": ("e7cc746e4cfa47fadc518b28e15de669",),
    "eventbridge/synthetics-canary-failed.json": ("3e6ec29def53aa974f2c33c2bbfaf531",),
    "eventbridge/synthetics-canary-passed.json": ("3e6ec29def53aa974f2c33c2bbfaf531",),
    "eventbridge/trustedadvisor-service-limit.json": ("e927f3944bd8e979a396029addc7d4d5",),
    "eventbridge/lambda-invocation-failure.json": ("a157c65e8bdbb1c379d81da550154fa5",),
    "eventbridge/health-closed.json": ("a7fd38374e8f560f5c2d781a5d5496ac",),
    "eventbridge/health-issue.json": ("a7fd38374e8f560f5c2d781a5d5496ac",),
    "eventbridge/securityhub-findings.json": (
        "0eab74ab77788ff1a84f14f4221c20c4",
        "72df2887de496a6bdc6c2813e1fed39f",
    ),
    "eventbridge/sns-guardduty-finding.json": ("c268210196fa0d4e497fc371e94e2ae7",),
    # DMS events by EventBridge: a task's failure, and its start again that resolves it.
    "eventbridge/dms-task-failed.json": ("c04c2799c249a36cc61b9261fb2a5b36",),
    "eventbridge/dms-task-started.json": ("c04c2799c249a36cc61b9261fb2a5b36",),
    # AWS services' state changes by EventBridge: a failure and the next success share one.
    "eventbridge/autoscaling-launch-successful.json": ("5ed6269f287d034c41927287ca4aa70d",),
    "eventbridge/autoscaling-launch-unsuccessful.json": ("5ed6269f287d034c41927287ca4aa70d",),
    "eventbridge/backup-job-completed.json": ("dba7d845d2bc18afa5aa2c4cfab88520",),
    "eventbridge/backup-job-failed.json": ("dba7d845d2bc18afa5aa2c4cfab88520",),
    "eventbridge/batch-job-failed.json": ("aa7b145f093f27760a55551ba9ee3d35",),
    "eventbridge/batch-job-succeeded.json": ("aa7b145f093f27760a55551ba9ee3d35",),
    "eventbridge/codebuild-build-failed.json": ("3789246e55b1dc5df8998733bc83e566",),
    "eventbridge/codebuild-build-succeeded.json": ("3789246e55b1dc5df8998733bc83e566",),
    "eventbridge/codepipeline-stage-failed.json": ("d6c915bf2f78dc3a15f0d810802eafa6",),
    "eventbridge/codepipeline-stage-succeeded.json": ("d6c915bf2f78dc3a15f0d810802eafa6",),
    "eventbridge/ecs-deployment-completed.json": ("704b72475caf9f9a5c5c2dd7645600b3",),
    "eventbridge/ecs-deployment-failed.json": ("704b72475caf9f9a5c5c2dd7645600b3",),
    "eventbridge/emr-cluster-failed.json": ("89bcc00b454bc05ba80e176b31bf3e1e",),
    "eventbridge/emr-cluster-running.json": ("89bcc00b454bc05ba80e176b31bf3e1e",),
    "eventbridge/glue-job-failed.json": ("b670e808f38dda57162121ab53f7fa52",),
    "eventbridge/glue-job-succeeded.json": ("b670e808f38dda57162121ab53f7fa52",),
    "eventbridge/stepfunctions-execution-failed.json": ("f7eb55100dfedc16c592747288413b1d",),
    "eventbridge/stepfunctions-execution-succeeded.json": ("f7eb55100dfedc16c592747288413b1d",),
    "generic/firing.json": ("0f71bd4e951738198a3c904c0023a01d",),
    "generic/no-dedup-key.json": ("f9d0ebbd3a64f6575d9870b428e1f212",),
    "generic/resolved.json": ("0f71bd4e951738198a3c904c0023a01d",),
    "grafana/group-firing.json": (
        "57560785a302fbf4654b0d9942e5abad",
        "b79768168185d4a5858782d8ac629f9f",
    ),
    "grafana/group-resolved.json": ("57560785a302fbf4654b0d9942e5abad",),
    "grafana/legacy-alerting.json": ("9422b49819af7746ccd3d7315f2a6931",),
    "grafana/legacy-no-data.json": (),
    "grafana/legacy-ok.json": ("9422b49819af7746ccd3d7315f2a6931",),
    "grafana/legacy-test-notification.json": (),
    "grafana/test-notification.json": (),
    "grafana/v8-firing.json": ("e0a2ed8eb5c4944888a3f277593455ee",),
    "grafana/v9-firing.json": ("3ae911432366b03438a3db60f7c9bdaa",),
    "hostile/numbers-as-strings.json": ("6649363a690258e267b0daad0e5b45ff",),
    "hostile/unicode-generic.json": ("0c5558a03ee2ab8efc03cee0ab571f96",),
    # Alerts posted as to Alertmanager's API (Prometheus, vmalert): the webhook's fingerprints.
    "prometheus/api-v2-firing.json": (
        "4b0b9de99d319af52313fa3aa762bea9",
        "b43427bb484020e584dcb92d51e0b59f",
        "f684110fbf2918f8bfaa28a377a91431",
    ),
    "prometheus/api-v2-resolved.json": ("4b0b9de99d319af52313fa3aa762bea9",),
    "prometheus/vmalert-firing.json": ("b6ef19bef7b6e87efe11caf85cd0ca82",),
    "sentry/event-alert.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    "sentry/installation-created.json": (),
    "sentry/issue-archived.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    "sentry/issue-assigned.json": (),
    "sentry/issue-created.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    "sentry/issue-ignored.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    "sentry/issue-resolved.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    "sentry/issue-unresolved.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    "sentry/metric-alert-critical.json": ("f813d00acff49681fee6916c37c53969",),
    "sentry/metric-alert-resolved.json": ("f813d00acff49681fee6916c37c53969",),
    "sentry/metric-alert-warning.json": ("f813d00acff49681fee6916c37c53969",),
    "sns/amp-alertmanager-firing.json": (
        "4b0b9de99d319af52313fa3aa762bea9",
        "b43427bb484020e584dcb92d51e0b59f",
    ),
    "sns/amp-alertmanager-resolved.json": ("4b0b9de99d319af52313fa3aa762bea9",),
    "sns/grafana-contact-point.json": ("57560785a302fbf4654b0d9942e5abad",),
    "sns/subscription-confirmation.json": (),
    "sns/unsubscribe-confirmation.json": (),
    "threshold/host-only.json": ("9359ef34520b0220443e050059625c67",),
    "threshold/other-device.json": ("917e77735fc44413f2602998539033cd",),
    "threshold/resolved.json": ("183f1c66de2ba69f1bb067e69e477ea8",),
    "threshold/triggered.json": ("183f1c66de2ba69f1bb067e69e477ea8",),
    "cloudwatch/eventbridge-composite-suppressed-waitperiod.json": (
        "4a116f286d82bd0d3d67ac368a0449cb",
    ),
    "alertmanager/alert-status-null.json": ("10adeb5885d76552167dca8772a58b6f",),
    "cloudwatch/description-severity-prose.json": ("c3876ddb8547c315900345a67f2a646e",),
    "sns/notification-message-bom.json": ("0f71bd4e951738198a3c904c0023a01d",),
    "sentry/legacy-plugin.json": ("de6c812c17c3b159aa6419d737e4bb39",),
    "sentry/activity-alert-resolved.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    # The same issue as the activity alert's: a service hook and the integration's webhooks
    # for one issue are one incident.
    "sentry/service-hook-event-alert.json": ("b8b0ea17cdd7fba428a166afef74913b",),
    "grafana/datasource-nodata.json": ("31dc350b2a5fffb64c30f7a3c57146f0",),
    "alertmanager/no-alertname.json": ("1f871064ddda239bbb0c5c00463653bc",),
    "cloudwatch/sns-anomaly-detection.json": ("3c7f4438d99a3de55ff4fdc2f6609539",),
    "sns/text-message.json": ("386d8a0305a18b48a4e2dd51576a0ea1",),
    # Real-world variants (tests/test_source_variants.py); the composite's SNS form shares its
    # EventBridge form's fingerprint, and a generic `state` resolve its firing alert's.
    "alertmanager/curl-alerts-only.json": ("07d3faeee0c4b2d25d2e109ee013538e",),
    "alertmanager/truncated-unicode.json": ("6552c0f2f365b37d970c048de1162cfa",),
    "cloudwatch/raw-no-dimensions.json": ("a57df4259727f7d12e8e0fe2e412036b",),
    "cloudwatch/sns-composite.json": ("756ae5a9b58150ea624c025c244c08b4",),
    "cloudwatch/sns-fifo-metric-math.json": ("0a6d32bfc58fbbbb82942667750304d0",),
    "eventbridge/ec2-instance-stopped.json": ("14176c8e9caffbfe9928040cb7227265",),
    "generic/labels-team-sev1.json": ("5dd28d95efecb0c8754bc4c23fb96fc1",),
    "generic/state-resolved.json": ("5dd28d95efecb0c8754bc4c23fb96fc1",),
    "grafana/v11-firing-values.json": (
        "6608d9e83d1c5d3c524ee86db61484b0",
        "d13f2a0eac20e448b30f4b6758331f4d",
    ),
    "sentry/comment-created.json": (),
    "sentry/error-created.json": (),
    "sentry/installation-deleted.json": (),
    "sentry/seer-root-cause-completed.json": (),
    "sentry/legacy-plugin-minimal.json": ("de6c812c17c3b159aa6419d737e4bb39",),
    # Alertmanager's default (text) SNS template: firing and resolved are one group's incident.
    "sns/alertmanager-default-firing.json": ("962f2479cb7277516340a25ba6b43831",),
    "sns/alertmanager-default-resolved.json": ("962f2479cb7277516340a25ba6b43831",),
    # AWS services' own SNS notices (tests/test_normalize_aws_notices.py pins them too).
    "aws/autoscaling-launch-error.json": ("515984a0979d050f098ba3e2c10d7c18",),
    "aws/autoscaling-test-notification.json": (),
    "aws/backup-job-failed.json": ("b0f95664ee0625acf4ef94fa79c73280",),
    "aws/beanstalk-health-severe.json": ("d0a96b39ea837893882d693a00756e6e",),
    "aws/cloudformation-resource-failed.json": ("15a0bbc429f442f5b573bf65ec0df57b",),
    "aws/codestar-pipeline-failed.json": ("acecd720d39bc168c8d96de5e94d390c",),
    "aws/config-noncompliant.json": ("62e2181da3e2c9d4402b893b9399af6c",),
    "aws/cost-anomaly.json": ("bc79e83fbf16481515c9ca4ab23ba971",),
    # DevOps Guru's SNS notices: the fingerprint of the insight's EventBridge events.
    "aws/devops-guru-new-insight.json": ("3f75d485b4af67db787558e6894984e6",),
    "aws/devops-guru-closed-insight.json": ("3f75d485b4af67db787558e6894984e6",),
    "aws/dms-task-stopped.json": ("8358b15ca146392f4c300439af78668f",),
    "aws/elasticache-snapshot-failed.json": ("5e81d300f8daac5c9ed26604b362cdcd",),
    "aws/rds-failover-started.json": ("2caf3e261a436b486a2475592a779ae6",),
    "aws/budgets-actual-exceeded.json": ("72ff22ecf66d21a4791104549610ee19",),
    "aws/codedeploy-deployment-failed.json": ("dac50a45f7c735906bdd42f9486a3c8e",),
    "aws/dms-task-failed.json": ("67b525bbdb058968f7fa2b7fae764c77",),
    "aws/elasticache-text-snapshot-failed.json": ("5e81d300f8daac5c9ed26604b362cdcd",),
    # A Chatbot custom notification published to a topic the queue is subscribed to: its thread.
    "aws/chatbot-custom-notification.json": ("8612a5ec59266d2ab8917fe5487fd062",),
    "aws/lambda-kinesis-on-failure.json": ("35f9e57f4c6a00ae55150a9f3c1ff29f",),
    "aws/lambda-msk-on-failure.json": ("04f17f01e23905f418f1ea43b9311f06",),
    # An EventBridge pipe's dead-letter record of a discarded stream batch: keyed by pipe and stream.
    "aws/pipes-kinesis-dead-letter.json": ("e12b02f8e0b4d836864a25b192cb1f04",),
    "aws/pipes-dynamodb-dead-letter.json": ("5cd50b9b2031d5aa681adf54a0228635",),
    # A Custom Event Bus subscriber's dead-letter record: keyed by subscriber and target.
    "aws/eventbridge-subscriber-dead-letter.json": ("f859ac02fdfb8b442b0a84e80230db53",),
    "aws/inspector-finding-reported.json": ("1a54b5ed22574e10d89b0cb779203d2f",),
    "aws/inspector2-finding-sns.json": ("6efe5c259f1a9e22cbc582a6b4e7b209",),
    "aws/macie-finding-sns.json": ("7d965c713faf65ca4bb678ebdb1bc6a7",),
    "aws/redshift-resize-failed.json": ("b6f71ca0443adace6326821aee60507f",),
    "aws/ssm-invocation-failed.json": ("1807de8b5c828ea6a835e4b755a958ec",),
    "aws/memorydb-provisioning-failed.json": ("eb9e61620a8d1c2db88bb3758dd1ce47",),
    # Other tools' webhooks (tests/test_normalize_vendors.py): a trigger and its recovery share one.
    "vendors/datadog-custom-no-data.json": (),
    "vendors/datadog-custom-recovered.json": ("95876a8bd52b85e15662b515bc9fbda5",),
    "vendors/datadog-custom-triggered.json": ("95876a8bd52b85e15662b515bc9fbda5",),
    # The integration's default payload keyed by the monitor id in its monitor link (2026-12-06).
    "vendors/datadog-default-recovered.json": ("65d507251f3030f0ae0b38780176f13a",),
    "vendors/datadog-default-triggered.json": ("65d507251f3030f0ae0b38780176f13a",),
    "vendors/opsgenie-acknowledge.json": (),
    "vendors/opsgenie-close.json": ("df35205e00cfc43d26987ac140e85761",),
    "vendors/opsgenie-create.json": ("df35205e00cfc43d26987ac140e85761",),
    "vendors/pagerduty-acknowledged.json": (),
    "vendors/pagerduty-resolved.json": ("665f36c2eaea486be09a2dfec8cc96e9",),
    "vendors/pagerduty-triggered.json": ("665f36c2eaea486be09a2dfec8cc96e9",),
    "vendors/newrelic-activated.json": ("2b475843ce2ed432623c91748ee89f53",),
    "vendors/newrelic-acknowledged.json": (),
    "vendors/newrelic-closed.json": ("2b475843ce2ed432623c91748ee89f53",),
    "vendors/azure-fired.json": ("1cd789b14a834734cee63cdc46853ea0",),
    "vendors/azure-resolved.json": ("1cd789b14a834734cee63cdc46853ea0",),
    "vendors/gcp-open.json": ("3683893ba529c9361486afd6a08aae80",),
    "vendors/gcp-closed.json": ("3683893ba529c9361486afd6a08aae80",),
    "vendors/gcp-test.json": (),
    "vendors/uptimekuma-down.json": ("c979ed1897992e842e1d8f6949ab8cea",),
    "vendors/uptimekuma-pending.json": (),
    "vendors/uptimekuma-test.json": (),
    "vendors/uptimekuma-up.json": ("c979ed1897992e842e1d8f6949ab8cea",),
    # Splunk searches keyed with their owner (2026-12-06; a body without one keeps its old key).
    "vendors/splunk-alert.json": ("d36bafc385e4a5f9a031359d3a2c9014",),
    "vendors/splunk-alert-unnamed.json": ("07aadc9ecac75854ce4611573378294f",),
    # Other tools' webhooks as they are sent today (tests/test_normalize_real_world_vendors.py).
    # Azure Monitor's stateless alerts: a Service Health event's notices and its resolution share
    # one (its tracking id), a resource's health events one, a log search rule's firings one.
    "azure/log-stateless-fired-again.json": ("92021ad0ade3cbc121c466b1cbd7d0ad",),
    "azure/log-stateless-fired.json": ("92021ad0ade3cbc121c466b1cbd7d0ad",),
    "azure/resource-health-available.json": ("84a6fda4edc8c674f8f09d5d521f9020",),
    "azure/resource-health-unavailable.json": ("84a6fda4edc8c674f8f09d5d521f9020",),
    "azure/service-health-active.json": ("29ee98830728459edae02eb1931936b6",),
    "azure/service-health-resolved.json": ("29ee98830728459edae02eb1931936b6",),
    "azure/service-health-update.json": ("29ee98830728459edae02eb1931936b6",),
    "azure/test-action-group-metric.json": (),
    "azure/test-action-group-resource-health.json": (),
    # Datadog through the templates in use (Keep's, Zenduty's, a nested alert object; a
    # transition template read as a generic alert): a trigger and its recovery share one.
    "datadog/keep-recovered.json": ("f828f0fadc9bad7456f8dfbc72d53c08",),
    "datadog/keep-triggered.json": ("f828f0fadc9bad7456f8dfbc72d53c08",),
    "datadog/nested-triggered.json": ("eb5e8db0d4f09a017fc1689d24b739bf",),
    "datadog/transition-triggered.json": ("7e66fd1700ccde632f6d217f47ac710a",),
    "datadog/zenduty-triggered.json": ("6257df2ca2527a8693977812f8494174",),
    # A Cloud Monitoring uptime check's incident: open and closed share one.
    "gcp/uptime-closed.json": ("9de8e02485019794ada5c5b77873f04d",),
    "gcp/uptime-open.json": ("9de8e02485019794ada5c5b77873f04d",),
    # Zulip's webhook fixtures of New Relic, Opsgenie and PagerDuty: a trigger and its
    # close (Opsgenie's delete too) share one; acknowledgements, notes and pings are skipped.
    "newrelic/acknowledged-by-user.json": (),
    "newrelic/closed.json": ("7281987c3d0790e64725666d4f95a1fc",),
    "newrelic/created.json": ("7281987c3d0790e64725666d4f95a1fc",),
    "newrelic/custom-no-title.json": ("d245445f5e8f666cf1b59dfa63685f3e",),
    "newrelic/custom-issue-id.json": ("d88a5b424f2b3630a706362daa25df8f",),
    "splunk-o11y/anomalous.json": ("c4fbe90a300caad8342d0de7255b2630",),
    "splunk-o11y/ok.json": ("c4fbe90a300caad8342d0de7255b2630",),
    "newrelic/legacy-open.json": ("9bcba6cd94fbeb16a8a0d2463214f5b0",),
    "opsgenie/addnote.json": (),
    "opsgenie/close.json": ("1527937062f4fdf46909054300734003",),
    "opsgenie/create.json": ("1527937062f4fdf46909054300734003",),
    "opsgenie/delete.json": ("1527937062f4fdf46909054300734003",),
    "pagerduty/annotated.json": (),
    "pagerduty/ping.json": (),
    # A person's priority change moves the open ticket: the incident's own key (2026-12-06).
    "pagerduty/priority-updated.json": ("785edb78660213cc2e566e0643647d4b",),
    # No incident_key: keyed by the incident's id (two open incidents may share a title).
    "pagerduty/resolved.json": ("031311547a95460b541555c5b0568e12",),
    "pagerduty/triggered.json": ("031311547a95460b541555c5b0568e12",),
    # Splunk real-time searches (no results link; an unnamed search's runs share one), keyed
    # with their owner; a per-result row ("| head 1 | tail 1" link) with its host (2026-12-06).
    "splunk/realtime-no-results-link.json": ("41a2b3b7783aafa36ef1fd47ed9486bf",),
    "splunk/realtime-unnamed.json": ("2281d4b23255d15ed6bd616c205daf63",),
    # Uptime Kuma's JSON, form-data and GET bodies of one heartbeat share one.
    "uptimekuma/form-data-down.json": ("d57f66c533f12f1b4f22de1bafe88792",),
    "uptimekuma/get-down.json": ("d57f66c533f12f1b4f22de1bafe88792",),
    "uptimekuma/json-down.json": ("d57f66c533f12f1b4f22de1bafe88792",),
    # A script's alert with its message, details and tags; its resolve shares one.
    "generic/script-firing.json": ("d46199df7f2f9fc2b7c4081c91147857",),
    "generic/script-resolved.json": ("d46199df7f2f9fc2b7c4081c91147857",),
    # A Better Stack incident sent without its event: the incident's fingerprint.
    "betterstack/incident-no-event-started.json": ("c85b0e72e60b1a30dc3562f779a83edc",),
    # UptimeRobot's variables in snake_case (Zulip's template): down and up share one.
    "uptimerobot/snake-down.json": ("ea2c789af5e6caafe95645d31bea5d03",),
    "uptimerobot/snake-up.json": ("ea2c789af5e6caafe95645d31bea5d03",),
    # Error trackers', uptime checkers' and on-call tools' webhooks (tests/test_normalize_tools.py):
    # a trigger and its recovery share one.
    "tools/bugsnag-comment.json": (),
    "tools/bugsnag-first-exception.json": ("c0c795b491cc25d7e5b2df7151b36976",),
    "tools/bugsnag-fixed.json": ("c0c795b491cc25d7e5b2df7151b36976",),
    # Dynatrace by its problem's PID, OnCall without a groupKey by its alert group's id (no
    # longer by an entity and title, or an integration and title, two open ones may share).
    "tools/dynatrace-open.json": ("9e4c5a5c3eecb7625701da223a27d402",),
    "tools/dynatrace-resolved.json": ("9e4c5a5c3eecb7625701da223a27d402",),
    "tools/dynatrace-test.json": (),
    "tools/grafana-oncall-acknowledge.json": (),
    "tools/grafana-oncall-alertmanager-created.json": ("22038f5ccf1ded3c227a9afe24df57ce",),
    "tools/grafana-oncall-created.json": ("dc43ef70f38e1037be2e6d607611293f",),
    "tools/grafana-oncall-resolve.json": ("dc43ef70f38e1037be2e6d607611293f",),
    "tools/honeycomb-ok.json": ("430f5f04fe5b534ff68dbd458207f447",),
    "tools/honeycomb-test.json": (),
    "tools/honeycomb-triggered.json": ("430f5f04fe5b534ff68dbd458207f447",),
    "tools/honeybadger-alarm-alert.json": ("c3c9b485e8abe8467add502b83f29bb0",),
    "tools/honeybadger-alarm-ok.json": ("c3c9b485e8abe8467add502b83f29bb0",),
    "tools/honeybadger-check-in-missing.json": ("55d904c03880ef365991031074d55407",),
    "tools/honeybadger-check-in-reporting.json": ("55d904c03880ef365991031074d55407",),
    "tools/honeybadger-down.json": ("b2f326c36905f19d7d37af8707f106b7",),
    "tools/honeybadger-occurred.json": ("bb8e85905e8e31760cfc7fc78dba744a",),
    "tools/honeybadger-resolved.json": ("bb8e85905e8e31760cfc7fc78dba744a",),
    "tools/honeybadger-test.json": (),
    "tools/honeybadger-up.json": ("b2f326c36905f19d7d37af8707f106b7",),
    "tools/pingdom-http-down.json": ("043c5dad0e12cd2f1a1840b2a9f2e877",),
    "tools/pingdom-http-up.json": ("043c5dad0e12cd2f1a1840b2a9f2e877",),
    "tools/rollbar-deploy.json": (),
    "tools/rollbar-new-item.json": ("dc45bc6cebbd249bff774e11cd7d1d95",),
    "tools/rollbar-occurrence.json": ("d1deb278c88f51b9dd0079905e40a731",),
    "tools/rollbar-resolved-item.json": ("d1deb278c88f51b9dd0079905e40a731",),
    # Rollbar's "Send Test Notification": skipped as a test.
    "tools/rollbar-test.json": (),
    # More checkers' and trackers' webhooks (tests/test_normalize_more_vendors.py).
    # Better Stack Errors' error webhook: a new error and its resolve.
    "betterstack/error-new.json": ("bef94297105489eafcc3c32bf2223d06",),
    "betterstack/error-resolved.json": ("bef94297105489eafcc3c32bf2223d06",),
    "betterstack/incident-acknowledged.json": (),
    "betterstack/incident-resolved.json": ("c85b0e72e60b1a30dc3562f779a83edc",),
    "betterstack/incident-started.json": ("c85b0e72e60b1a30dc3562f779a83edc",),
    "betterstack/monitor-paused.json": (),
    "checkly/failure.json": ("4b472d014de24fb0567e93bbbc935f0c",),
    "checkly/recovery.json": ("4b472d014de24fb0567e93bbbc935f0c",),
    "checkly/test-message.json": (),
    "honeybadger/cert-will-expire.json": ("c759e5dfaed88568f016efb7ddace4d8",),
    "raygun/follow-up.json": ("9ee0ddf4814e858a240341a1ba14f731",),
    "raygun/new-error.json": ("9ee0ddf4814e858a240341a1ba14f731",),
    # A group's status changed in Raygun: resolved closes, active reopens, an assignment
    # changes nothing; the group's notifications' fingerprint.
    "raygun/assigned.json": (),
    "raygun/status-active.json": ("9ee0ddf4814e858a240341a1ba14f731",),
    "raygun/status-changed.json": ("9ee0ddf4814e858a240341a1ba14f731",),
    "statuscake/down.json": ("708cc5c28d9b4753fc323efcb4536a8b",),
    "statuscake/up.json": ("708cc5c28d9b4753fc323efcb4536a8b",),
    "uptimerobot/down.json": ("c034e0faa5db2325b9fe503912cb8609",),
    "uptimerobot/ssl-expiry.json": ("1683c19180871355e4e180794a20b13f",),
    "uptimerobot/up.json": ("c034e0faa5db2325b9fe503912cb8609",),
    "uptimerobot/test-notification.json": (),
    "betterstack/on-call-change.json": (),
    "eventbridge/redshift-serverless-kms-key-invalid.json": ("9ccc67a0e8fe551e159f6d01f45c00d5",),
    "eventbridge/redshift-serverless-rpu-change-completed.json": (
        "72565d47be8cb33f82d4c8433fb2699a",
    ),
    "eventbridge/redshift-serverless-rpu-change-failed.json": ("72565d47be8cb33f82d4c8433fb2699a",),
    "statuspage/component-major-outage.json": ("4a7197e4d43c4f724ab577c299fbe4e8",),
    "statuspage/component-operational.json": ("4a7197e4d43c4f724ab577c299fbe4e8",),
    "statuspage/incident-identified.json": ("526a7e81d0e127ec3a0c59abe4a0351e",),
    "statuspage/incident-resolved.json": ("526a7e81d0e127ec3a0c59abe4a0351e",),
    # Kapacitor's POST handler: CRITICAL and OK of one alert id share one.
    "kapacitor/critical.json": ("2f37d316c4f059bb604fda64732d4fca",),
    "kapacitor/ok.json": ("2f37d316c4f059bb604fda64732d4fca",),
    # Freshping: a check's error and its return share one; the webhook test is skipped.
    "freshping/unreachable.json": ("3d76e03a469baec1a899b705ad2d01c3",),
    "freshping/reachable.json": ("3d76e03a469baec1a899b705ad2d01c3",),
    "freshping/test.json": (),
    # A workflow on its branch: the failed run and the next successful one are one incident.
    "github-actions/workflow-run-failed.json": ("d4b58b0b11fb29229c19da913929314b",),
    "github-actions/workflow-run-succeeded.json": ("d4b58b0b11fb29229c19da913929314b",),
    "github-actions/workflow-run-in-progress.json": (),
    "cronitor/alert.json": ("f5f734090258d28b16c64c776d0ab55b",),
    "cronitor/recovery.json": ("f5f734090258d28b16c64c776d0ab55b",),
    "airbrake/error.json": ("5007a4c0d562e72907c271400b55d747",),
    # Graylog: one event definition and key; Execute Test Notification is skipped.
    "graylog/event.json": ("60e5d703914fb87e3a8a8796ad0fa7dd",),
    "graylog/test-notification.json": (),
    # Librato and AppOptics: an alert's trigger and its clear share one; a user's test is skipped.
    "librato/triggered.json": ("cf52fa204eb25cdddfdf6d9fce65c477",),
    "librato/cleared.json": ("cf52fa204eb25cdddfdf6d9fce65c477",),
    "librato/test.json": (),
    # Site24x7: a monitor's DOWN and its UP share one; a trouble threshold of another is its own.
    "site24x7/down.json": ("4057520eb479d81b2c4c80fc24b32cfd",),
    "site24x7/up.json": ("4057520eb479d81b2c4c80fc24b32cfd",),
    "site24x7/trouble.json": ("3539852e0eba6b373af51513becb63ec",),
    # A Netdata alert by space, alert and chart; its clear closes it; a node's reachability by
    # host; the Test button's body makes none.
    "netdata/alert-critical.json": ("a800733eb55c9298aac639efaac09653",),
    "netdata/alert-clear.json": ("a800733eb55c9298aac639efaac09653",),
    "netdata/reachability-unreachable.json": ("57a024bd44837da4cb46969fafa67451",),
    "netdata/reachability-reachable.json": ("57a024bd44837da4cb46969fafa67451",),
    "netdata/test-notification.json": (),
    # A Macie finding imported by Security Hub (ASFF, OCSF) is the incident of Macie's own event.
    "eventbridge/securityhub-macie-finding.json": ("7d965c713faf65ca4bb678ebdb1bc6a7",),
    "eventbridge/securityhub-v2-macie-finding.json": ("7d965c713faf65ca4bb678ebdb1bc6a7",),
}


@pytest.mark.parametrize(("name", "expected"), sorted(GOLDEN.items()))
def test_fingerprints_are_pinned(name: str, expected: tuple[str, ...]) -> None:
    """Each sample payload still yields exactly its pinned fingerprints."""
    result = normalize_body((PAYLOADS / name).read_text(encoding="utf-8"))
    assert tuple(alert.fingerprint for alert in result.alerts) == expected


def test_every_payload_is_pinned() -> None:
    """A new sample payload must be added to the golden table."""
    files = {p.relative_to(PAYLOADS).as_posix() for p in PAYLOADS.rglob("*.json")}
    assert files == set(GOLDEN)


def test_fingerprint_function_is_pinned() -> None:
    """The hash itself (version, canonical JSON, SHA-256 prefix) is pinned on a fixed identity."""
    identity = {"account": "123456789012", "region": "us-east-1", "alarm": "orders-api-p99-latency"}
    assert fingerprint_of("cloudwatch", identity) == GOLDEN["cloudwatch/sns-alarm.json"][0]


def test_a_copy_with_another_identity_gets_its_own_fingerprint() -> None:
    """model_copy(update={"identity": …}) recomputes the fingerprint instead of keeping the
    original's cached one."""
    from factories import alert

    original = alert("x")
    copied = original.model_copy(update={"identity": {"dedup_key": "y"}})
    assert copied.fingerprint == alert("y").fingerprint != original.fingerprint
