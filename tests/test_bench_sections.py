"""bench/baseline.py's section of RESULTS.md: a run of the storms alone (`--only peer`) keeps
the start-up figures an earlier run measured, saying where they come from."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import baseline

CFG = baseline.QUICK
START = {
    "compiling": {"cpu_s": 4.0, "wall_s": 4.1},
    "runs": [{"cpu_s": 0.9, "wall_s": 1.0, "before": ["GetQueueAttributes"], "rss_mib": 80.0}],
}
DAEMON = {"window_s": 9.0, "cpu_s": 0.2, "cpu": {}, "llm_calls": 10, "tickets": 10, "problems": {}}
BARE = {"window_s": 5.0, "receive": 11, "delete": 10, "cpu_s": 0.1, "picture": {}}
PAIR = {"pairs": [{"bare": BARE, "bare_ms": 1.0, "daemon": DAEMON, "daemon_ms": 2.0}]}
DOC = "# results\n\n## Figures\n\nkept\n\n## Machine and versions\n\nkept too\n"


def _section(document: str) -> str:
    start = document.index(baseline.HEADING)
    return document[start : document.index("\n## ", start + 1)]


def test_a_storm_only_run_keeps_the_start_up_figures_and_their_origin() -> None:
    """Twice `--only peer` after a full measurement: the start-up rows and lines stay, named
    after the run that measured them, and the storm figures are the newest; nothing else moves."""
    both, _ = baseline.section(CFG, START, None, PAIR, None, "Measured by run one.")
    document = baseline.splice(DOC, both)
    for provenance in ("Measured by run two.", "Measured by run three."):
        peer, _ = baseline.section(CFG, None, None, PAIR, None, provenance)
        document = baseline.splice(document, peer)
    section = _section(document)
    assert "not measured" not in section
    assert "| start-up: daemon CPU" in section and "Start-up 1: 0.90 s CPU" in section
    assert f"{baseline._CARRIED} run one." in section
    assert section.count(baseline._CARRIED) == 1
    assert "Measured by run three." in section and "run two" not in section
    assert document.startswith("# results\n\n## Figures\n\nkept\n\n")
    assert document.endswith("## Machine and versions\n\nkept too\n")


def test_a_run_that_measures_start_up_replaces_the_carried_figures() -> None:
    """Once start-up is measured again, its own figures replace the carried ones."""
    first, _ = baseline.section(CFG, START, None, PAIR, None, "Measured by run one.")
    peer, _ = baseline.section(CFG, None, None, PAIR, None, "Measured by run two.")
    document = baseline.splice(baseline.splice(DOC, first), peer)
    again = {**START, "runs": [{**START["runs"][0], "cpu_s": 0.5}]}  # type: ignore[dict-item]
    both, _ = baseline.section(CFG, again, None, PAIR, None, "Measured by run three.")
    section = _section(baseline.splice(document, both))
    assert baseline._CARRIED not in section
    assert "Start-up 1: 0.50 s CPU" in section and "0.90 s CPU" not in section
