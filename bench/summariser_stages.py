"""The OpenAI summariser's own CPU per new incident, stage by stage, without HTTP: the alert's
view (redacted title, then the view with its payload excerpt), the prompt and its evidence
(`_prepare`), the answer's parse (`_draft`) and its checks (`contain`), each timed over N
fresh distinct generic alerts, the model's answers made beforehand by the loopback model's
own function. With `--prose`, the model's description and steps are an on-call engineer's
prose (`PROSE`: "only", "not", "fixed", "wait", "restarted", a threshold, a status tag), the
common words the claims checks are gated on, which the stub's short answer never writes.

    PYTHONPATH=src:tests:bench .venv/bin/python bench/summariser_stages.py N ROUNDS [--prose]

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

#: Descriptions and steps as an on-call engineer writes them, none dismissing the alert: each
#: model answer of a `--prose` round takes one, in turn.
PROSE: tuple[dict[str, object], ...] = (
    {
        "description": "The checkout service on bench-host-1 is returning 5xx errors for about "
        "12% of requests since 14:02 UTC. Only the EU pool is affected, not the US one. The "
        "error rate has not dropped since the last deploy, and the alarm state is ALARM.",
        "steps": [
            "Check the checkout dashboard for the error rate and latency by pool",
            "Compare with the last deploy; roll back if the errors started with it",
            "Restart the checkout pods on bench-host-1 if memory is near the limit",
            "Wait for the new pods to become ready, then check the error rate again",
        ],
    },
    {
        "description": "Disk usage on bench-host-1 is at 91% and rising by about 2% an hour. "
        "Log rotation keeps a fixed 7 days, but the status of the cleanup job is failed, so "
        "old archives are not removed. The threshold of this alert is 90% for 10 minutes.",
        "steps": [
            "Find the largest directories with du -sh /var/* | sort -h",
            "Restart the cleanup job and confirm it runs to the end",
            "If the disk fills before it finishes, move old archives to the bucket",
            "Do not raise the threshold: the alert fired for a real problem",
        ],
    },
    {
        "description": "[Platform] Queue depth on the orders queue went from 200 to 14,000 in "
        "ten minutes; the consumers on bench-host-1 were restarted at 03:10 but only two of "
        "eight came back. Messages are not lost, but processing is behind by about 25 minutes.",
        "steps": [
            "Check why six consumers did not start (kubectl describe pod, recent events)",
            "Scale the consumer deployment back to eight replicas",
            "Watch the queue depth; it should fall within 30 minutes once all consumers run",
            "Tell the orders team that processing is delayed, not failed",
        ],
    },
    {
        "description": "Latency of the search API on bench-host-1 is 2.4 s at p99 against a "
        "usual 300 ms. The cache hit rate fell to 40% after the cache cluster was retuned "
        "this morning; the database is fine but busy. This is not a test: users see slow "
        "searches.",
        "steps": [
            "Open the search API dashboard and the cache cluster's metrics",
            "Check whether the cache's eviction policy changed with this morning's retune",
            "Revert the cache settings to the previous values if the hit rate does not recover",
            "Page the search team if p99 is still above 1 s after 20 minutes",
        ],
    },
)


def _round(
    summariser: LlmSummariser, redactor: Redactor, prefix: str, n: int, prose: bool = False
) -> dict[str, float]:
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
    for i, (request, _evidence) in enumerate(prepared):
        answer = PROSE[i % len(PROSE)] if prose else None
        reply = default_model({"messages": request.messages()}, answer=answer)
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
    prose = "--prose" in argv
    n, rounds = (int(arg) for arg in [a for a in argv[1:] if a != "--prose"][:2])
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
    _round(summariser, redactor, "warm", 300, prose)
    results = [_round(summariser, redactor, f"r{i}", n, prose) for i in range(rounds)]
    totals = [sum(r.values()) for r in results]
    for stage in results[0]:
        values = [r[stage] for r in results]
        print(f"{stage:12s} median {statistics.median(values):7.1f} µs  min {min(values):7.1f}")
    print(f"{'total':12s} median {statistics.median(totals):7.1f} µs  min {min(totals):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
