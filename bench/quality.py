"""Ticket quality, measured without a judge: every sample payload through a summariser, each
ticket scored on checks a program can make, the table written to bench/QUALITY.md.

    .venv/bin/python bench/quality.py [FOLDER ...] [--output bench/QUALITY.md] [--model stub]

Payloads: every `*.json` under tests/payloads and under each FOLDER given. Each firing alert of
a payload is one incident (resolves write no ticket); a payload holding several firing alerts
of one alertname is also scored as one group incident, as a `group_by` route would make it.

Summarisers: the deterministic one, and the configured model through the same path the daemon
uses (`build_summariser`: the LLM behind its breaker, with the deterministic fallback). With
TRIAGE_LLM_PROVIDER / OPENAI_API_KEY / AWS credentials set, that is the real model; without
them (or with `--model stub`) it is the loopback stand-in model (`triage.demo.model`), which
is no language model: its scores measure the path (prompt, hint, grounding, contract), not
writing.

Checks (a check that does not apply to an alert is not counted for it):
    priority      the priority the source states is the ticket's
    runbook       with a runbook, the first step opens it
    what          the title names what failed (alert name, metric or exception), when the alert
                  names it (`triage.summarise.subject`)
    where         the title names where (host, instance, service, project, region …), when the
                  alert says
    grounded      no number, time, host, address, identifier or link in the title or
                  description that the alert does not hold (`triage.summarise.grounding`)
    lengths       title 1 to 120 characters, description 1 to 4,000, 1 to 8 steps of at most 300
    concrete      a step other than the runbook that names the alert's own things (its metric,
                  host, service, the resource or check it is about, a link) or is a known-error pattern's step; never only the
                  generic steps
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from triage.errors import TriageError
from triage.metrics import Metrics
from triage.models import Alert, Status, Ticket
from triage.normalize import normalize_body
from triage.redact import Redactor
from triage.settings import Settings, load_settings
from triage.summarise import (
    FallbackSummariser,
    Summariser,
    build_summariser,
    deterministic_summariser,
    grounding,
    prompt,
    subject,
)
from triage.summarise.base import DESCRIPTION_CHARS, MAX_STEPS, STEP_CHARS, TITLE_CHARS
from triage.summarise.deterministic import GENERIC_STEPS, load_patterns
from triage.summarise.llm import LlmSummariser
from triage.view import GroupView, MemberView, RedactedAlert, redact_alert

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = ROOT / "tests" / "payloads"
_CATEGORIES = [p.category for p in load_patterns()]
CHECKS = ("priority", "runbook", "what", "where", "grounded", "lengths", "concrete")
#: Labels a sample group is keyed by, when all its alerts share them.
_GROUP_BY = ("alertname", "service", "job", "namespace", "cluster", "region")


@dataclass(frozen=True)
class Case:
    """One incident: where it came from, and the alert as summarisers see it."""

    name: str
    alert: RedactedAlert


@dataclass
class Scored:
    case: Case
    ticket: Ticket
    #: check -> passed, or None when it does not apply to this alert.
    checks: dict[str, bool | None]
    fallback: bool = False
    tokens_in: float | None = None
    tokens_out: float | None = None
    estimated_in: int | None = None
    grounding_rejects: float = 0

    @property
    def failed(self) -> list[str]:
        return [name for name, ok in self.checks.items() if ok is False]


@dataclass
class Run:
    label: str
    scored: list[Scored] = field(default_factory=list)
    elapsed_s: float = 0.0


# --- cases -------------------------------------------------------------------------------------


def cases(folders: Sequence[Path], excerpt_chars: int) -> tuple[list[Case], list[str]]:
    """Every firing alert of every payload (and one group per multi-alert payload), and the
    payloads that gave none, with why."""
    redactor = Redactor()
    found: list[Case] = []
    skipped: list[str] = []
    for folder in folders:
        for path in sorted(folder.rglob("*.json")):
            name = str(path.relative_to(folder.parent if folder == PAYLOADS else folder))
            try:
                normalized = normalize_body(path.read_bytes())
            except TriageError as exc:
                skipped.append(f"{name}: {exc.reason}")
                continue
            firing = [a for a in normalized.alerts if a.status is Status.FIRING]
            if not firing:
                why = ", ".join(s.reason for s in normalized.skipped) or "resolved only"
                skipped.append(f"{name}: {why}")
            views = [redact_alert(a, redactor, excerpt_chars=excerpt_chars) for a in firing]
            suffix = len(views) > 1
            found += [Case(f"{name}#{i + 1}" if suffix else name, v) for i, v in enumerate(views)]
            group = _group(firing, views)
            if group is not None:
                found.append(Case(f"{name} (group of {len(firing)})", group))
    return found, skipped


def _group(alerts: list[Alert], views: list[RedactedAlert]) -> RedactedAlert | None:
    if len(alerts) < 2 or not all(a.labels.get("alertname") for a in alerts):
        return None
    first = views[0]
    by = {
        key: first.labels[key]
        for key in _GROUP_BY
        if key in first.labels and all(v.labels.get(key) == first.labels[key] for v in views)
    }
    if "alertname" not in by:
        return None
    members = tuple(MemberView(v.fingerprint, v.title, v.status, v.occurred_at) for v in views)
    return dataclasses.replace(first, group=GroupView(by=by, members=members))


# --- checks ------------------------------------------------------------------------------------


def score(
    alert: RedactedAlert, ticket: Ticket, pattern_steps: frozenset[str]
) -> dict[str, bool | None]:
    """Each check of the module docstring for one ticket."""
    whats, wheres = subject.what(alert), subject.where(alert)
    return {
        "priority": None if alert.priority is None else ticket.priority is alert.priority,
        "runbook": None
        if not alert.runbook_url
        else bool(ticket.steps) and alert.runbook_url in ticket.steps[0],
        "what": None if not whats else any(subject.names(ticket.title, w) for w in whats),
        "where": None if not wheres else any(subject.names(ticket.title, w) for w in wheres),
        "grounded": ungrounded(alert, ticket) == 0,
        "lengths": _lengths(ticket),
        "concrete": any(
            _concrete(s, alert, whats + wheres + _about(alert), pattern_steps) for s in ticket.steps
        ),
    }


def ungrounded(alert: RedactedAlert, ticket: Ticket) -> int:
    """Facts and links in the title and description that the alert does not hold."""
    view = prompt.alert_view(alert, Redactor(), 1_000_000)
    # Pattern categories ("http-5xx") are triage's own words, named by either summariser.
    shown = grounding.evidence({**view, "known_error_patterns": _CATEGORIES})
    allowed = grounding.allowed_urls(alert.links.values(), alert.runbook_url, alert.description)
    count = 0
    for text in (ticket.title, ticket.description):
        text, removed = grounding.links(text, allowed)
        count += removed + len(grounding.check(text, shown).rejected)
    return count


def _lengths(ticket: Ticket) -> bool:
    return (
        1 <= len(ticket.title) <= TITLE_CHARS
        and 1 <= len(ticket.description) <= DESCRIPTION_CHARS
        and 1 <= len(ticket.steps) <= MAX_STEPS
        and all(len(step) <= STEP_CHARS for step in ticket.steps)
    )


def _about(alert: RedactedAlert) -> list[str]:
    """The name of the one thing the alert is about (an AWS notice's resource, a check's id), if
    it says one: a step naming it is as concrete as one naming the host."""
    thing = subject.about(alert)
    return [thing[1]] if thing is not None else []


def _concrete(
    step: str, alert: RedactedAlert, terms: list[str], pattern_steps: frozenset[str]
) -> bool:
    if step in GENERIC_STEPS or (alert.runbook_url and alert.runbook_url in step):
        return False
    if step in pattern_steps:
        return True
    links = [url for url in alert.links.values() if url]
    return any(url in step for url in links) or any(subject.names(step, t) for t in terms)


# --- running a summariser ----------------------------------------------------------------------


async def run(label: str, summariser: Summariser, metrics: Metrics, items: list[Case]) -> Run:
    pattern_steps = frozenset(s for p in load_patterns() for s in p.steps)
    llm = summariser.primary if isinstance(summariser, FallbackSummariser) else None
    result = Run(label)
    started = time.monotonic()
    for case in items:
        before = {n: metrics.total(n) for n in _DELTAS}
        ticket = await summariser.summarise(case.alert)
        delta = {n: metrics.total(n) - before[n] for n in _DELTAS}
        scored = Scored(case, ticket, score(case.alert, ticket, pattern_steps))
        if isinstance(llm, LlmSummariser):
            scored.fallback = delta["SummarizationFailures"] > 0
            scored.tokens_in = delta["LLMTokensIn"] or None
            scored.tokens_out = delta["LLMTokensOut"] or None
            scored.estimated_in = llm.prepare(case.alert).tokens
            scored.grounding_rejects = delta["LLMGroundingRejects"]
        result.scored.append(scored)
    result.elapsed_s = time.monotonic() - started
    await summariser.aclose()
    return result


_DELTAS = ("SummarizationFailures", "LLMTokensIn", "LLMTokensOut", "LLMGroundingRejects")


def _model_settings(kind: str, stack: ExitStack) -> tuple[Settings, str]:
    """The settings of the model to measure, and how the report names it."""
    if kind == "configured":
        settings = load_settings()
        if settings.llm == "bedrock":
            return settings, f"Bedrock `{settings.bedrock_model_id}` in {settings.aws_region}"
        if settings.llm == "openai":
            where = settings.openai_base_url or "OpenAI"
            return settings, f"OpenAI-compatible `{settings.openai_model}` at {where}"
    from triage.demo.model import ChatServer

    server = stack.enter_context(ChatServer())
    settings = Settings(openai_api_key="sk-quality-bench-stub", openai_base_url=server.url)
    return settings, "the loopback stand-in model (`triage.demo.model`; not a language model)"


async def measure(items: list[Case], model: str) -> tuple[Run, Run]:
    with ExitStack() as stack:
        settings, label = _model_settings(model, stack)
        redactor = Redactor()
        plain = await run(
            "deterministic", deterministic_summariser(settings, redactor), Metrics(), items
        )
        metrics = Metrics()
        configured = await run(label, build_summariser(settings, metrics, redactor), metrics, items)
    return plain, configured


# --- the report --------------------------------------------------------------------------------


def report(runs: Sequence[Run], skipped: list[str], folders: Sequence[Path]) -> str:
    commit = _commit()
    lines = [
        "# Ticket quality",
        "",
        f"Written by `bench/quality.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit "
        f"`{commit}`, over {len(runs[0].scored)} incidents from "
        + ", ".join(f"`{_rel(f)}`" for f in folders)
        + ". Each check is passed / applicable (an alert that names no host is not scored on "
        "`where`); the checks are defined in the script's docstring.",
        "",
        "| check | " + " | ".join(_short(r.label) for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    lines += [
        f"| {check} | " + " | ".join(_rate(r, check) for r in runs) + " |" for check in CHECKS
    ]
    lines.append("| **all checks** | " + " | ".join(_overall(r) for r in runs) + " |")
    lines += ["", "Summarisers:", ""]
    lines += [f"- **{_short(r.label)}**: {r.label}; {r.elapsed_s:.1f} s for the lot" for r in runs]
    for r in runs:
        lines += _model_lines(r)
    lines += ["", "## Per incident", ""]
    for r in runs:
        lines += [
            f"### {r.label}",
            "",
            "| incident | title | priority | steps | failed | tokens in/out |",
            "|---|---|---|---|---|---|",
        ]
        for s in r.scored:
            tokens = (
                f"{_n(s.tokens_in)} / {_n(s.tokens_out)} (est. {s.estimated_in})"
                if s.estimated_in is not None
                else "—"
            )
            failed = ", ".join(s.failed) or "—"
            if s.fallback:
                failed += " (fallback)"
            lines.append(
                f"| {_cell(s.case.name)} | {_cell(s.ticket.title)} | {s.ticket.priority.value} "
                f"| {len(s.ticket.steps)} | {failed} | {tokens} |"
            )
        lines.append("")
    if skipped:
        lines += ["## Payloads with no ticket to score", ""]
        lines += [f"- {_cell(s)}" for s in skipped]
        lines.append("")
    return "\n".join(lines)


def _model_lines(r: Run) -> list[str]:
    with_tokens = [s for s in r.scored if s.estimated_in is not None]
    if not with_tokens:
        return []
    reported_in = [s.tokens_in for s in with_tokens if s.tokens_in]
    reported_out = [s.tokens_out for s in with_tokens if s.tokens_out]
    estimated = [s.estimated_in for s in with_tokens if s.estimated_in]
    fallbacks = sum(s.fallback for s in with_tokens)
    rejects = sum(s.grounding_rejects for s in with_tokens)
    return [
        "",
        f"Tokens per incident with {_short(r.label)}: prompt {_stats(reported_in)} and completion "
        f"{_stats(reported_out)} as the provider reported them; prompt {_stats(estimated)} as "
        "triage estimates it (UTF-8 bytes / 4, system message included). "
        f"Fallbacks to the deterministic ticket: {fallbacks}; facts rejected by grounding "
        f"(`LLMGroundingRejects`): {int(rejects)}.",
    ]


def _stats(values: Sequence[float]) -> str:
    if not values:
        return "(not reported)"
    return f"mean {sum(values) / len(values):.0f}, max {max(values):.0f}"


def _rate(r: Run, check: str) -> str:
    applicable = [s.checks[check] for s in r.scored if s.checks[check] is not None]
    if not applicable:
        return "n/a"
    passed = sum(bool(ok) for ok in applicable)
    return f"{passed}/{len(applicable)} ({100 * passed / len(applicable):.0f}%)"


def _overall(r: Run) -> str:
    clean = sum(not s.failed for s in r.scored)
    return f"{clean}/{len(r.scored)} incidents pass every check"


def _short(label: str) -> str:
    return "deterministic" if label == "deterministic" else "model"


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _cell(text: str) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat[:100] + ("…" if len(flat) > 100 else "")


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, help="more folders of payloads")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "QUALITY.md")
    parser.add_argument(
        "--model",
        choices=["configured", "stub"],
        default="configured",
        help="configured: the model the environment names (the stand-in when none); stub: the stand-in",
    )
    args = parser.parse_args(argv)
    folders = [PAYLOADS, *args.folders]
    # The bench's own log lines (fallbacks, grounding) would bury the summary.
    os.environ.setdefault("TRIAGE_LOG_LEVEL", "warning")
    from triage.logs import configure_logging

    configure_logging("console", "error")
    settings = load_settings() if args.model == "configured" else Settings()
    items, skipped = cases(folders, settings.llm_max_input_tokens * prompt.BYTES_PER_TOKEN)
    runs = asyncio.run(measure(items, args.model))
    args.output.write_text(report(runs, skipped, folders) + "\n", encoding="utf-8")
    for r in runs:
        print(f"{_short(r.label):>13}: " + ", ".join(f"{c} {_rate(r, c)}" for c in CHECKS))
    print(f"wrote {_rel(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
