"""The bench's command line: a phase name `--only` does not know is refused before anything runs."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import run as bench_run


def test_a_misspelt_phase_is_refused_with_the_names_it_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--only strom` exits 2 naming the phases (it ran nothing and reported every figure as
    not measured)."""
    with pytest.raises(SystemExit) as stopped:
        bench_run.main(["--only", "storm,strom"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "no phase named strom" in err and "storm" in err.split("phases:")[1]


def test_every_phase_bench_runs_is_a_name_only_takes() -> None:
    """The names `--only` accepts are the first words of the phases' labels in Bench.run."""
    source = inspect.getsource(bench_run.Bench.run)
    labels = re.findall(r'\(\s*f?"([a-z]+)[ ")]', source)
    assert set(labels) == bench_run.PHASES
