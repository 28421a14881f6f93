"""`triage demo`: what the README's quick start shows is what it prints, and `--llm stub`
shows the LLM path (the redacted prompt, the fallback, grounding, the metrics) with no key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daemon_harness import run_triage

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
#: The password the backup sample's description quotes.
SAMPLE_PASSWORD = "Hunter2-Orders"


def _timeless(text: str) -> str:
    return re.sub(r"handled in \d+\.\d s", "handled in N s", text).strip("\n")


@pytest.mark.timeout(150)
def test_the_quick_start_shows_what_the_demo_prints() -> None:
    """The README's demo report is the demo's own output, line for line (the time aside): the
    counts, the tickets, one ticket in full with its GitHub issue, the dead letters."""
    proc = run_triage("demo", timeout=120)
    assert proc.returncode == 0, proc.stderr
    block = README.split("It ends with a report:\n\n```\n", 1)[1].split("\n```\n", 1)[0]
    assert _timeless(proc.stdout) == _timeless(block)
    assert "[REDACTED:password]" in proc.stdout
    assert SAMPLE_PASSWORD not in proc.stdout


@pytest.mark.timeout(150)
def test_the_stub_model_shows_the_llm_path_without_a_key() -> None:
    """`triage demo --llm stub`: the model gets the redacted prompt with the matched patterns'
    hint; one answer that is not JSON falls back; invented facts are marked and counted."""
    proc = run_triage("demo", "--llm", "stub", timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "tickets created      4" in out
    prompt = out.split("the prompt for the backup alert", 1)[1].split("its metrics:", 1)[0]
    assert "Known error patterns" in prompt and "backup-failure" in prompt
    assert "[REDACTED:password]" in prompt
    assert SAMPLE_PASSWORD not in out + proc.stderr
    assert re.search(r"LLMCalls +invalid 1, ok 3", out)
    assert "SummarizationFailures 1  (LLMFallbacks: invalid_json 1;" in out
    rejects = re.search(r"LLMGroundingRejects +(\d+)", out)
    assert rejects is not None and int(rejects.group(1)) >= 3
    assert "[unverified]" in out
