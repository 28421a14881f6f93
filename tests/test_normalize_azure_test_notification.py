"""Azure Monitor's "Test action group" sends, for each alert type, a fixed common-schema payload
that looks like a real alert; every one of them names the placeholder subscription
11111111-1111-1111-1111-111111111111 in its `alertId`. Such a payload is skipped with one log
line, never a ticket, as other sources' test notifications are.

Samples (tests/payloads/azure/test-action-group-*.json): the "Metric alerts - Static threshold"
and "Resource Health" payloads of Microsoft's "Common alert schema definitions for Test Action
Group" (learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema-test-action-definitions;
MicrosoftDocs/azure-docs articles/azure-monitor/alerts/alerts-common-schema-test-action-definitions.md).
"""

from __future__ import annotations

import pytest

from source_samples import Samples, one, run, skipped_reasons

AZURE = Samples("azure")
TESTS = ["test-action-group-metric.json", "test-action-group-resource-health.json"]


@pytest.mark.parametrize("name", TESTS)
def test_an_action_group_test_is_skipped_as_a_test_notification(name: str) -> None:
    """The test action's payload gives no alert, only a skip saying it is a test."""
    read = run(AZURE.body(name))
    assert read.alerts == ()
    [skipped] = read.skipped
    assert (skipped.source, skipped.reason) == ("azure", "test_notification")


@pytest.mark.parametrize("name", TESTS)
async def test_the_pipeline_logs_why_it_made_no_ticket(name: str) -> None:
    """Through the pipeline the test makes no ticket and no dead letter, and logs its reason."""
    assert await skipped_reasons(AZURE.text(name)) == ["test_notification"]


def test_the_same_alert_in_a_real_subscription_is_an_alert() -> None:
    """Only the placeholder subscription marks a test: the same payload under a real one fires."""
    body = AZURE.body("test-action-group-metric.json")
    essentials = body["data"]["essentials"]
    essentials["alertId"] = essentials["alertId"].replace(
        "11111111-1111-1111-1111-111111111111", "4f8a2c1e-9b3d-4e7a-8c5f-2d1b6a9e0c37"
    )
    assert one(body).title == "test-metricAlertRule on test-storageAccount"
