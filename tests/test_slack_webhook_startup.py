"""The daemon's start-up (`build_sinks`) names what sends to Slack when SLACK_WEBHOOK_URL is
unset, as `triage check` does (`routes.require_slack_webhook`)."""

from __future__ import annotations

import pytest

from triage.app import build_sinks
from triage.aws import Aws
from triage.errors import ConfigError
from triage.metrics import Metrics
from triage.settings import load_settings


async def test_start_up_without_a_slack_webhook_names_triage_sinks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TRIAGE_SINKS=slack with SLACK_WEBHOOK_URL unset stops the sinks' building with a
    ConfigError naming TRIAGE_SINKS as what sends to Slack, not only the missing variable."""
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("TRIAGE_SINKS", "slack")
    settings = load_settings()
    aws = Aws(settings)
    try:
        with pytest.raises(ConfigError, match="TRIAGE_SINKS") as refused:
            await build_sinks(settings, aws, Metrics())
        assert "SLACK_WEBHOOK_URL" in str(refused.value)
    finally:
        await aws.aclose()
