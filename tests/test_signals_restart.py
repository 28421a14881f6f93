"""After a restart, Prometheus' `increase()` counts a counter's first event only if the series
was on the page before it, at 0. The series whose dimension values are known at start-up
(the sinks of the settings, the outcomes and reasons the code names) are declared then;
declaring sends CloudWatch nothing and changes no count."""

from __future__ import annotations

import io
import re
import socket
import time
from pathlib import Path

import httpx2
import pytest

from daemon_harness import TOKEN, DaemonThread, Queues, settings_for
from triage.demo.ticketd import TicketServer
from triage.errors import TriageError
from triage.metrics import Metrics
from triage.ops.known_series import LLM_OUTCOMES, SINK_OUTCOMES, declare_known_series
from triage.ops.metrics_export import EmfExporter
from triage.ops.prometheus import prometheus_text

SRC = Path(__file__).resolve().parent.parent / "src" / "triage"


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text, None when it is not on the page."""
    shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    match = re.search(rf"^{name}\{{{re.escape(shown)}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_known_series_are_on_the_page_at_zero_before_their_first_event() -> None:
    """A sink's failures, the model's outcomes and the messages' failure and hold reasons are
    on /metrics at 0 from start-up, so the first one after a restart is an increase of 1."""
    metrics = Metrics()
    declare_known_series(metrics, sinks=["github", "backend"])
    text = prometheus_text(metrics)
    sink = "triage_sink_calls_total"
    assert sample(text, sink, sink="github", outcome="unavailable") == 0
    assert sample(text, sink, sink="backend", outcome="network") == 0
    assert sample(text, sink, sink="slack", outcome="ok") is None  # not configured
    assert sample(text, "triage_llm_calls_total", outcome="timeout") == 0
    assert sample(text, "triage_messages_failed_total", reason="store_unavailable") == 0
    assert sample(text, "triage_messages_failed_total", reason="bug") == 0
    assert sample(text, "triage_messages_held_total", reason="sink_throttled") == 0
    metrics.incr("SinkCalls", sink="github", outcome="unavailable")
    after = prometheus_text(metrics)
    assert sample(after, sink, sink="github", outcome="unavailable") == 1


def test_declaring_sends_cloudwatch_nothing_and_changes_no_count() -> None:
    """Declared series are not counters that counted: no EMF line, no entry in counters()
    (the daemon's stopped line, the demo's report), until their first event."""
    metrics = Metrics()
    declare_known_series(metrics, sinks=["github"])
    out = io.StringIO()
    assert EmfExporter(metrics, "Restart", stream=out).flush(now_ms=1) == 0
    assert metrics.counters() == {}
    metrics.incr("SinkCalls", sink="github", outcome="ok")
    assert list(metrics.counters().values()) == [1.0]


def test_every_sink_outcome_the_code_names_is_declared() -> None:
    """Each `outcome` a sink's code counts under `SinkCalls` is among its declared ones, GitHub's
    errors' reasons too (a new outcome not declared would miss its first event after every
    restart)."""
    files = {
        "backend": [SRC / "sinks" / "backend.py"],
        "slack": [SRC / "sinks" / "slack.py"],
        "github": [SRC / "sinks" / "github" / "sink.py"],
    }
    for sink, paths in files.items():
        code = "\n".join(p.read_text() for p in paths)
        named = set(re.findall(r'outcome="(\w+)"', code))
        if sink == "github":  # its calls return (applied, outcome); its errors count by reason
            named |= set(re.findall(r'return .*\), "(\w+)"\n', code))
            errors = "\n".join(p.read_text() for p in (SRC / "sinks" / "github").glob("*.py"))
            named |= set(re.findall(r'reason ?= ?"(\w+)"', errors))
        assert named, sink
        assert named <= set(SINK_OUTCOMES[sink]), (sink, named - set(SINK_OUTCOMES[sink]))


def test_every_model_outcome_the_code_names_is_declared() -> None:
    """Each `outcome` the model clients give `LLMCalls` is among LLM_OUTCOMES."""
    code = "\n".join(p.read_text() for p in (SRC / "summarise").glob("*.py"))
    named = set(re.findall(r'outcome="(\w+)"', code))
    assert named and named <= set(LLM_OUTCOMES), named - set(LLM_OUTCOMES)


def test_every_error_reason_is_declared_for_messages_failed() -> None:
    """Each reason of the error tree (what `MessagesFailed{reason}` counts) is declared."""
    metrics = Metrics()
    declare_known_series(metrics)
    declared = {
        dict(dims)["reason"] for name, dims in metrics.declared() if name == "MessagesFailed"
    }
    reasons: set[str] = set()
    todo: list[type[TriageError]] = [TriageError]
    while todo:
        kind = todo.pop()
        reasons.add(kind.reason)
        todo.extend(kind.__subclasses__())
    assert reasons <= declared


def test_the_daemon_declares_its_known_series_as_it_starts(
    queues: Queues, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The running daemon's /metrics has its configured sink's and the model's series at 0
    before any message: `run_daemon` declares them at start-up."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings_for(queues, backend.url, tmp_path / "t.db", http_port=port)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    daemon = DaemonThread(settings)
    try:
        text = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and daemon.alive():
            try:
                text = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                break
            except httpx2.TransportError:
                time.sleep(0.05)
    finally:
        daemon.stop()
    assert sample(text, "triage_sink_calls_total", sink="backend", outcome="network") == 0, text
    assert sample(text, "triage_llm_calls_total", outcome="timeout") is not None
