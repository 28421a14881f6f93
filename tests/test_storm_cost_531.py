"""The SQS client's User-Agent is built once per set of features, not twice per call (helper
531: ~20 us of each storm message's CPU), and is byte for byte the header botocore builds."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.context import start_as_current_context
from botocore.useragent import register_feature_id

from triage.aws import Aws
from triage.settings import Settings
from triage.sqs.user_agent import remember_user_agent

QUEUE = "http://127.0.0.1:9/000000000000/q"


class _Captured(Exception):
    """Stops a call at `before-send`, once its headers are final."""


async def _sqs(monkeypatch: pytest.MonkeyPatch) -> tuple[Aws, Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    aws = Aws(Settings(queue_url=QUEUE, aws_endpoint_url="http://127.0.0.1:9"))
    return aws, await aws.client("sqs")


async def _sent_user_agent(sqs: Any) -> str:
    """The User-Agent a ReceiveMessage call would send (it is stopped before it leaves)."""
    sent: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(request.headers["User-Agent"].decode())
        raise _Captured

    sqs.meta.events.register_first("before-send.sqs", capture)
    try:
        with pytest.raises(_Captured):
            await sqs.receive_message(QueueUrl=QUEUE, MaxNumberOfMessages=10)
    finally:
        sqs.meta.events.unregister("before-send.sqs", capture)
    return sent[0]


async def test_a_call_sends_the_header_botocore_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call sends byte for byte the User-Agent it sent before the memo, features and all."""
    aws, sqs = await _sqs(monkeypatch)
    try:
        before = await _sent_user_agent(sqs)
        assert remember_user_agent(sqs)
        assert await _sent_user_agent(sqs) == before
        assert await _sent_user_agent(sqs) == before
    finally:
        await aws.aclose()


async def test_each_set_of_features_has_its_own_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call that registered other features gets the header of those features, not the one
    remembered for another set."""
    aws, sqs = await _sqs(monkeypatch)
    try:
        creator = sqs._user_agent_creator
        plain = creator.to_string()
        with start_as_current_context():
            register_feature_id("ENDPOINT_OVERRIDE")
            register_feature_id("GZIP_REQUEST_COMPRESSION")
            featured = creator.to_string()
        assert featured != plain
        assert remember_user_agent(sqs)
        assert creator.to_string() == plain
        with start_as_current_context():
            register_feature_id("ENDPOINT_OVERRIDE")
            register_feature_id("GZIP_REQUEST_COMPRESSION")
            assert creator.to_string() == featured
        assert creator.to_string() == plain
    finally:
        await aws.aclose()


async def test_a_header_is_built_once_per_set_of_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The header is put together once for a set of features, then given again: the build
    (each part sanitised a character at a time) is the cost the memo removes."""
    aws, sqs = await _sqs(monkeypatch)
    try:
        creator = sqs._user_agent_creator
        builds: list[str] = []
        build = creator.to_string

        def counted() -> str:
            builds.append("built")
            return build()

        creator.to_string = counted
        assert remember_user_agent(sqs)
        for _ in range(5):
            creator.to_string()
        assert len(builds) == 1
    finally:
        await aws.aclose()


def test_a_client_without_botocores_builder_is_left_alone() -> None:
    """A client whose User-Agent builder is not botocore's (another version, a stand-in) is
    not changed: without the features it reads, a remembered header could be wrong."""

    class Builder:
        def to_string(self) -> str:
            return "custom/1"

    class Client:
        _user_agent_creator = Builder()

    client = Client()
    assert not remember_user_agent(client)
    assert "to_string" not in vars(client._user_agent_creator)
