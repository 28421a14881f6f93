# ruff: noqa: RUF001, RUF002 - the report writes the multiplication sign on purpose
"""One Alertmanager message of a big group (`python3 dev.py bench --only biggroup`): 1,000 new
alerts in one webhook, each its own incident, with a 1 s model and `TRIAGE_LLM_CONCURRENCY=32`;
then the same shape under a grouping route, where it is one incident.

Figures (bench/README.md, "One message of a big group"): send → the last of the 1,000 tickets ≤
1.2 × (1,000 ÷ 32) × 1 s; exactly 1,000 LLM calls and tickets, the message acked once and
nothing in the DLQ; under the grouping route exactly one LLM call and one ticket.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import hol

SLACK = 1.2


@dataclass(frozen=True)
class BigGroupConfig:
    """The phase's parameters; all of them are printed in RESULTS.md."""

    alerts: int = 1_000
    llm_latency_s: float = 1.0
    #: TRIAGE_LLM_CONCURRENCY (the alerts of one message handled at once) and TRIAGE_CONCURRENCY.
    llm_concurrency: int = 32


FULL = BigGroupConfig()
#: One small wave of a faster model: the test suite's smoke run.
QUICK = BigGroupConfig(alerts=8, llm_latency_s=0.1, llm_concurrency=8)

#: The grouping route: Alertmanager alerts carrying the label `bench_group="yes"`, grouped by
#: alertname and namespace, no gathering window. The ungrouped message's alerts lack the label,
#: so no grouping route takes them.
ROUTES = """\
[[route]]
name = "big-group"
sinks = ["backend"]
group_by = ["alertname", "namespace"]
[route.match]
source = ["alertmanager"]
labels = { bench_group = "yes" }
"""


def notification(alerts: int, namespace: str, grouped: bool) -> str:
    """One Alertmanager webhook of `alerts` crash-looping pods in `namespace`; `grouped` adds
    the label the grouping route matches."""
    import rig

    extra = {"bench_group": "yes"} if grouped else None
    return rig.crashloop_notification(range(alerts), namespace, extra)


def measure(bench: Any, cfg: BigGroupConfig) -> dict[str, Any]:
    """One daemon (info logs: the ack lines) on a fresh queue that takes up to 1 MiB: a
    warm-up alert, then the ungrouped message, then the grouped one, each waited for to the
    end (its tickets, the empty queue)."""
    import rig

    name = "biggroup"
    queue = rig.make_queue(bench.endpoint, name)
    sqs = queue.client()
    # 1,000 alerts are ~280 KB: over SQS's old 256 KiB, within its 1 MiB (and the daemon's).
    sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"MaximumMessageSize": "1048576"})
    dlq_url = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    routes = bench.workdir / "biggroup-routes.toml"
    routes.write_text(ROUTES)
    chat = rig.TimedChat(cfg.llm_latency_s)
    chat.start()
    try:
        settings = rig.bench_settings(
            queue,
            chat,
            bench.backend,
            store_url=f"sqlite:///{bench.workdir / (name + '.db')}",
            routes_file=routes,
            concurrency=cfg.llm_concurrency,
            llm_concurrency=cfg.llm_concurrency,
            log_level="info",  # message.acked, one line per message, is an info event
        )
        daemon = rig.Daemon(settings, bench.workdir / f"{name}.log")
        try:
            tickets0 = bench.backend.count()
            queue.send_all([rig.generic_alert(f"{name}-warmup", "big group warm-up")])
            if (
                not rig.wait_for(
                    lambda: bench.backend.count() > tickets0 or not daemon.alive(),
                    time.monotonic() + 60,
                )
                or not daemon.alive()
            ):
                raise RuntimeError(f"no warm-up ticket within 60 s ({daemon.log_path})")
            hol._drain(queue, daemon, 60)
            ungrouped = _one(
                bench, queue, daemon, chat, notification(cfg.alerts, "shop", False), cfg.alerts
            )
            grouped = _one(bench, queue, daemon, chat, notification(cfg.alerts, "web", True), 1)
            daemon.stop()  # it finishes what it holds: anything late (a second copy) is counted
            events = daemon.log_events()
            totals = (chat.count(), bench.backend.count() - tickets0)
        finally:
            daemon.stop()
    finally:
        chat.stop()
    acks: dict[str, int] = {}
    for event in events:
        if event.get("event") == "message.acked" and "message_id" in event:
            acks[event["message_id"]] = acks.get(event["message_id"], 0) + 1
    for run in (ungrouped, grouped):
        run["acks"] = acks.get(run["message_id"], 0)
    return {
        "config": cfg,
        "ungrouped": ungrouped,
        "grouped": grouped,
        "dlq": rig.Queue(queue.endpoint, dlq_url).depth(),
        # Over the whole phase, the daemon stopped: the warm-up's, the ungrouped's, the group's.
        "totals": totals,
        "problems": hol.problems(events),
    }


def _one(bench: Any, queue: Any, daemon: Any, chat: Any, body: str, tickets: int) -> dict[str, Any]:
    """Send `body` alone; wait for `tickets` new tickets and the empty queue."""
    import rig

    index, llm0 = bench.backend.count(), chat.count()
    sqs = queue.client()
    cpu0 = daemon.cpu_s()
    began = time.time()
    message_id = sqs.send_message(QueueUrl=queue.url, MessageBody=body)["MessageId"]
    deadline = time.monotonic() + 120 + tickets * 2
    if (
        not rig.wait_for(
            lambda: bench.backend.count() >= index + tickets or not daemon.alive(),
            deadline,
            poll_s=0.01,
        )
        or not daemon.alive()
    ):
        made = bench.backend.count() - index
        raise RuntimeError(f"{made} of {tickets} tickets before the deadline ({daemon.log_path})")
    created = bench.backend.created_since(index)
    acked = hol._drain(queue, daemon, max(1.0, deadline - time.monotonic()))
    return {
        "message_id": message_id,
        "bytes": len(body.encode()),
        "to_first_ticket_s": created[0][0] - began,
        "to_last_ticket_s": created[tickets - 1][0] - began,
        "to_ack_s": acked - began,
        "llm_calls": chat.count() - llm0,
        "tickets": bench.backend.count() - index,
        "cpu_s": daemon.cpu_s() - cpu0,
    }


# --- RESULTS.md ----------------------------------------------------------------------------------

HEADING = "## One message of a big group"


def bound_s(cfg: BigGroupConfig) -> float:
    return SLACK * cfg.alerts / cfg.llm_concurrency * cfg.llm_latency_s


def section(m: dict[str, Any] | None, error: str | None, provenance: str) -> tuple[list[str], bool]:
    """This phase's section of RESULTS.md, and whether every target was met."""
    out = [HEADING, "", provenance, ""]
    if m is None:
        return [*out, f"Not measured: {error or 'the phase did not run'}.", ""], False
    cfg: BigGroupConfig = m["config"]
    u, g = m["ungrouped"], m["grouped"]
    limit = bound_s(cfg)
    floor = cfg.alerts / cfg.llm_concurrency * cfg.llm_latency_s
    once = u["acks"] == 1 and g["acks"] == 1 and m["dlq"] == 0
    expected = 1 + cfg.alerts + 1
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"{cfg.alerts:,} new alerts in one Alertmanager message, {cfg.llm_latency_s:g} s model, "
            f"LLM concurrency {cfg.llm_concurrency}: send → the last ticket",
            f"{u['to_last_ticket_s']:.1f} s ({u['to_last_ticket_s'] / floor:.2f} × the "
            f"{floor:.2f} s floor; first ticket {u['to_first_ticket_s']:.2f} s, acked "
            f"{u['to_ack_s']:.1f} s)",
            f"≤ {round(limit, 2):g} s ({SLACK:g} × {cfg.alerts:,} ÷ {cfg.llm_concurrency} × "
            f"{cfg.llm_latency_s:g} s)",
            u["to_last_ticket_s"] <= limit,
        ),
        (
            "the same: LLM calls / tickets",
            f"{u['llm_calls']} / {u['tickets']}",
            f"exactly {cfg.alerts}",
            u["llm_calls"] == cfg.alerts and u["tickets"] == cfg.alerts,
        ),
        (
            "under a grouping route (alertname, namespace): LLM calls / tickets",
            f"{g['llm_calls']} / {g['tickets']}",
            "exactly 1",
            g["llm_calls"] == 1 and g["tickets"] == 1,
        ),
        (
            "under the grouping route: send → the ticket, → the ack",
            f"{g['to_first_ticket_s']:.2f} s, {g['to_ack_s']:.2f} s",
            "none set",
            None,
        ),
        (
            "the whole phase, the daemon stopped (warm-up + ungrouped + group): LLM calls / tickets",
            f"{m['totals'][0]} / {m['totals'][1]}",
            f"exactly {expected}",
            m["totals"] == (expected, expected),
        ),
        (
            "each message acked once (message.acked lines), DLQ empty",
            f"{u['acks']} and {g['acks']} ack lines, {m['dlq']} in the DLQ",
            "1 and 1, 0",
            once,
        ),
    ]
    ok = all(k for *_, k in rows if k is not None)
    verdicts = {None: "report only", True: "PASS", False: "**FAIL**"}
    out += ["| figure | measured | target | result |", "|---|---|---|---|"]
    out += [f"| {f} | {v} | {t} | {verdicts[k]} |" for f, v, t, k in rows]
    out += [
        "",
        f"Parameters: {json.dumps(asdict(cfg))}. One daemon (`TRIAGE_CONCURRENCY` = "
        f"`TRIAGE_LLM_CONCURRENCY` = {cfg.llm_concurrency}, `TRIAGE_LOG_LEVEL=info`, a routes "
        'file whose one route groups the alerts labelled `bench_group="yes"`) on a fresh queue '
        "(`MaximumMessageSize` 1 MiB); one warm-up alert, then each message alone. Message "
        f"sizes {u['bytes']:,} / {g['bytes']:,} bytes; daemon CPU {u['cpu_s']:.1f} s "
        f"({u['cpu_s'] / cfg.alerts * 1000:.1f} ms per alert) / {g['cpu_s']:.1f} s. Warnings in "
        f"the daemon's log: {m['problems'] or 'none'}.",
        "",
    ]
    return out, ok


def splice(document: str, lines: list[str]) -> str:
    return hol.splice(document, lines, HEADING)
