"""The OpenAI summariser's own CPU per new incident, stage by stage, without HTTP: the alert's
view (redacted title, then the view with its payload excerpt), the prompt and its evidence
(`_prepare`), the answer's parse (`_draft`) and its checks (`contain`), each timed over N
fresh distinct generic alerts, the model's answers made beforehand by the loopback model's
own function.

    PYTHONPATH=src:tests:bench .venv/bin/python bench/summariser_stages.py N ROUNDS

Prints the median and the minimum over ROUNDS of each stage's µs per incident (the minimum
is the figure to compare on a shared machine).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

from rig import generic_alert

from triage.app import hold_credentials
from triage.demo.model import default_model
from triage.metrics import Metrics
from triage.normalize import normalize_body
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import build_summariser
from triage.summarise.chat import Answer
from triage.summarise.llm import LlmSummariser, contain
from triage.view import AlertView


def _round(summariser: LlmSummariser, redactor: Redactor, prefix: str, n: int) -> dict[str, float]:
    alerts = [
        normalize_body(generic_alert(f"{prefix}-{i}", f"{prefix} alert {i}")).alerts[0]
        for i in range(n)
    ]
    gc.collect()
    spent: dict[str, float] = {}
    clock = time.process_time
    started = clock()
    views = []
    for alert in alerts:
        view = AlertView(alert, redactor)
        _ = view.title  # read first, as the lifecycle reads it
        views.append(view)
    spent["view.title"] = clock() - started
    started = clock()
    shown = [v.view(excerpt_chars=summariser.max_input_tokens * 4, past_cap=True) for v in views]
    spent["view.view"] = clock() - started
    started = clock()
    prepared = [summariser._prepare(v, summariser.max_input_tokens) for v in shown]
    spent["prepare"] = clock() - started
    answers = []
    for request, _evidence in prepared:
        reply = default_model({"messages": request.messages()})
        text = reply.body["choices"][0]["message"]["content"]
        answers.append(Answer(text, "end", None, 100, 50))
    started = clock()
    drafts = [summariser._draft(a, v) for a, v in zip(answers, shown, strict=True)]
    spent["draft"] = clock() - started
    started = clock()
    for draft, view, (_request, evidence) in zip(drafts, shown, prepared, strict=True):
        contain(draft, view, redactor, evidence)
    spent["contain"] = clock() - started
    return {stage: s / n * 1e6 for stage, s in spent.items()}


def main(argv: list[str]) -> int:
    n, rounds = int(argv[1]), int(argv[2])
    settings = Settings(
        openai_api_key="sk-bench-dummy",
        openai_base_url="http://127.0.0.1:9/v1",
        log_level="warning",
    )
    hold_credentials(settings)
    redactor = Redactor()
    built = build_summariser(settings, Metrics(), redactor)
    summariser = built.primary  # type: ignore[attr-defined]
    assert isinstance(summariser, LlmSummariser)
    gc.freeze()  # the daemon's collector settings (`app._freeze_startup_objects`)
    gc.set_threshold(10_000, 10, 10)
    _round(summariser, redactor, "warm", 300)
    results = [_round(summariser, redactor, f"r{i}", n) for i in range(rounds)]
    totals = [sum(r.values()) for r in results]
    for stage in results[0]:
        values = [r[stage] for r in results]
        print(f"{stage:12s} median {statistics.median(values):7.1f} µs  min {min(values):7.1f}")
    print(f"{'total':12s} median {statistics.median(totals):7.1f} µs  min {min(totals):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
