"""bench/ingest.py's report: `--only ingest` replaces only the Ingest gateway section of
RESULTS.md, and the section judges each target from the numbers it was given."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def phase() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_ingest", BENCH / "ingest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


DOCUMENT = """# triage benchmark results

## Figures

| throughput | 0.87 | PASS |

## Machine and versions

| cores | 2 |

## Analysis

kept by hand
"""


def test_splice_inserts_then_replaces_only_its_section(phase: Any) -> None:
    """The section goes before "Machine and versions" the first time, replaces itself later,
    and every other line of the file stays as it was."""
    first = phase.splice(DOCUMENT, ["## Ingest gateway", "", "run 1"])
    assert first.index("## Ingest gateway") < first.index("## Machine and versions")
    second = phase.splice(first, ["## Ingest gateway", "", "run 2"])
    assert "run 1" not in second and "run 2" in second
    assert second.replace("## Ingest gateway\n\nrun 2\n\n", "") == DOCUMENT
    appended = phase.splice("# results\n", ["## Ingest gateway", "", "x"])
    assert appended.startswith("# results\n") and appended.rstrip().endswith("x")


def measured(**overrides: Any) -> dict[str, Any]:
    numbers: dict[str, Any] = {
        "config": None,
        "gateway_rate": 600.0, "gateway_window_s": 6.0, "gateway_p50_ms": 90.0,
        "gateway_p99_ms": 150.0, "gateway_statuses": {202: 4000}, "gateway_cpu_s": 4.0,
        "gateway_cpu_ms": 1.0, "closed_picture": {"bench": 1.0, "machine_busy": 11.0},
        "bare_rate": 160.0, "bare_window_s": 25.0, "bare_p50_ms": 380.0, "bare_p99_ms": 800.0,
        "bare_cpu_s": 10.0, "bare_cpu_ms": 2.5, "bare_picture": {"machine_busy": 40.0},
        "open_rate": 300.0, "open_requests": 6000, "open_p50_ms": 9.0, "open_p99_ms": 20.0,
        "open_max_ms": 30.0, "open_schedule_p99_ms": 21.0, "open_lateness_p99_ms": 1.0,
        "open_statuses": {202: 6000}, "inside_p50_ms": 8.0, "inside_p99_ms": 18.0,
        "bare_open_p50_ms": 7.0, "bare_open_p99_ms": 15.0, "accepted": 10300, "queued": 10300,
        "bare_open_rate": 80.0, "open_cpu_ms": 1.5, "open_window_s": 20.0,
        "open_picture": {"localstack": 8.0, "machine_busy": 20.0},
        "gateway_exit": 0, "problems": {},
    }  # fmt: skip
    numbers.update(overrides)
    return numbers


def test_section_passes_and_fails_on_the_targets(phase: Any) -> None:
    """CPU ratio ≤ 1.5, open-loop p99 ≤ 25 ms and every 202 queued pass; each miss is a FAIL."""
    cfg = phase.IngestConfig()
    lines, ok = phase.section(measured(config=cfg), None, "provenance")
    assert ok and "**FAIL**" not in "\n".join(lines)
    for miss in ({"gateway_cpu_ms": 3.8}, {"open_p99_ms": 25.1}, {"queued": 10299}):
        lines, ok = phase.section(measured(config=cfg, **miss), None, "provenance")
        assert not ok and "**FAIL**" in "\n".join(lines), miss


def test_a_phase_that_did_not_run_is_reported_not_hidden(phase: Any) -> None:
    """No numbers: the section says why, and the run is not all-pass."""
    lines, ok = phase.section(None, "LocalStack did not start", "provenance")
    assert not ok
    assert "Not measured: LocalStack did not start." in lines
