"""The daemon's start-up (`build_sinks`, which `triage run` calls before its first receive)
refuses GitHub sinks that have no repository to open issues in, naming the setting."""

from __future__ import annotations

import pytest

from triage.app import build_sinks
from triage.aws import Aws
from triage.errors import ConfigError
from triage.metrics import Metrics
from triage.settings import load_settings


async def test_start_up_refuses_github_in_triage_sinks_without_a_repository(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TRIAGE_SINKS=github with GITHUB_REPOSITORY unset stops the sinks' building with a
    ConfigError naming GITHUB_REPOSITORY, instead of a daemon dead-lettering every alert."""
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    monkeypatch.setenv("TRIAGE_SINKS", "github")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x" * 36)
    settings = load_settings()
    aws = Aws(settings)
    try:
        with pytest.raises(ConfigError, match="GITHUB_REPOSITORY"):
            await build_sinks(settings, aws, Metrics())
    finally:
        await aws.aclose()


async def test_start_up_builds_the_github_sink_when_the_repository_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same settings with GITHUB_REPOSITORY set build one GitHub sink (the refusal above
    is for the missing repository, not for GitHub)."""
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/payments")
    monkeypatch.setenv("TRIAGE_SINKS", "github")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x" * 36)
    settings = load_settings()
    aws = Aws(settings)
    try:
        sinks = await build_sinks(settings, aws, Metrics())
        assert [sink.name for sink in sinks] == ["github"]
        for sink in sinks:
            await sink.aclose()
    finally:
        await aws.aclose()
