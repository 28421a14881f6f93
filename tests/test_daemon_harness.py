"""tests/daemon_harness.py: each test's queues are its own, so a daemon left over from an
earlier test cannot take a later test's messages."""

from __future__ import annotations

import json

import httpx2

from daemon_harness import Queues, make_queues


def _redrive_target(queues: Queues, url: str) -> str:
    attrs = queues.client().get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    return str(json.loads(attrs["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"])


def _arn(queues: Queues, url: str) -> str:
    attrs = queues.client().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attrs["Attributes"]["QueueArn"])


def test_queues_made_after_a_reset_have_urls_of_their_own(
    queues: Queues, moto_url: str, loopback_http: httpx2.Client
) -> None:
    """The queue and DLQ a test gets differ from those the test before it got on the same moto
    (emptied between tests), so a daemon still polling the earlier URLs finds no queue there
    rather than the later test's messages; each queue redrives to its own DLQ."""
    loopback_http.post(f"{moto_url}/moto-api/reset").raise_for_status()  # as the next test's
    later = make_queues(moto_url)
    assert later.url != queues.url
    assert later.dlq_url != queues.dlq_url
    assert _redrive_target(later, later.url) == _arn(later, later.dlq_url)
