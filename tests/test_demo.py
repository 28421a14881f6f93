"""`triage demo`: what the README's quick start shows is what it prints, and `--llm stub`
shows the LLM path (the redacted prompt, the fallback, grounding, the metrics) with no key."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from daemon_harness import SRC, run_in_process

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
#: The password the backup sample's description quotes.
SAMPLE_PASSWORD = "Hunter2-Orders"


#: `triage ARGS` to completion: its exit code and output.
Triage = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def triage(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    moto_url: str,
    loopback_http: httpx2.Client,
) -> Iterator[Triage]:
    """The command line in this process, in the environment `run_triage` gives a process
    (nothing but PATH and our source): the demo runs its moto server, backend and daemon in
    the process that runs it either way, so a new interpreter would prove only its own start.
    moto keeps the state of every server of a process in one place, so the demo's starts
    empty (`moto_url`) and is emptied after it."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(SRC)}
        return run_in_process(monkeypatch, capsys, *args, env=env)

    yield run
    loopback_http.post(f"{moto_url}/moto-api/reset").raise_for_status()


def _timeless(text: str) -> str:
    return re.sub(r"handled in \d+\.\d s", "handled in N s", text).strip("\n")


@pytest.mark.timeout(150)
def test_the_quick_start_shows_what_the_demo_prints(triage: Triage) -> None:
    """The README's demo report is the demo's own output, line for line (the time aside): the
    counts, the tickets, one ticket in full with its GitHub issue, the dead letters."""
    proc = triage("demo")
    assert proc.returncode == 0, proc.stderr
    block = README.split("It ends with a report:\n\n```\n", 1)[1].split("\n```\n", 1)[0]
    assert _timeless(proc.stdout) == _timeless(block)
    assert "[REDACTED:password]" in proc.stdout
    assert SAMPLE_PASSWORD not in proc.stdout


@pytest.mark.timeout(150)
def test_the_stub_model_shows_the_llm_path_without_a_key(triage: Triage) -> None:
    """`triage demo --llm stub`: the model gets the redacted prompt with the matched patterns'
    hint; one answer that is not JSON falls back; invented facts are marked and counted."""
    proc = triage("demo", "--llm", "stub")
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
