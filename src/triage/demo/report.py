"""What `triage demo` prints after its waves: the counts, every ticket, one ticket in full with
the GitHub issue it would become, the dead letters, and with `--llm stub` what the model was
sent and how the LLM path fared (its metrics, the fallback, grounding).

Everything shown is what left the process (the backend's copy of each ticket, the model's copy
of each prompt), so what a newcomer reads here is redacted exactly as the real sinks see it.
It is alert text on a terminal: every line is printed as `view.terminal_text` writes it, so an
escape sequence or bidi control in a title is shown as `\\uXXXX`, never obeyed, and a title
spelling `\\u202e` itself shows its backslash doubled (a dead letter's preview, in Python's
repr, which doubles its own, as `view.terminal_line` writes it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from triage.app import RunResult
from triage.demo.model import alert_in, texts
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.normalize import normalize_body
from triage.normalize.common import cut
from triage.redact import Redactor
from triage.sinks.base import Effect
from triage.sinks.github.text import issue_body, issue_labels, issue_title
from triage.view import redact_alert, terminal_line, terminal_text

#: The sample whose ticket is shown in full: a runbook, a host, two known-error patterns, and
#: a password in its description for the redaction to take out.
FULL_TICKET_SAMPLE = "1-fire-generic-backup.json"
#: Lines of the model's prompt shown; characters per line.
_PROMPT_LINES = 60
_LINE_CHARS = 110


#: The message attribute naming the sample file a demo message was sent from (`run._named`).
SAMPLE_ATTRIBUTE = "triage-demo-sample"


@dataclass(frozen=True, slots=True)
class ModelRun:
    """The loopback model of `--llm stub`: where it listened and what it was sent."""

    url: str
    requests: list[dict[str, Any]]


def report(
    result: RunResult,
    tickets: list[dict[str, Any]],
    dead: list[dict[str, Any]],
    elapsed_s: float,
    model: ModelRun | None = None,
) -> str:
    m = result.metrics
    lines = [
        "",
        f"triage demo: {result.stats.received} deliveries handled in {elapsed_s:.1f} s",
        # What the backend was actually sent, not what was decided.
        f"  tickets created      {int(m.counter('TicketsCreated', sink='backend'))}",
        f"  tickets updated      {int(m.counter('TicketsUpdated', sink='backend'))}",
        f"  tickets closed       {int(m.counter('TicketsClosed', sink='backend'))}",
        f"  duplicates suppressed {int(m.total('DuplicatesSuppressed'))}",
        f"  dead letters         {len(dead)}",
        "",
        "tickets the backend received:",
    ]
    ordered = sorted(
        tickets, key=lambda t: (Priority(t["body"]["priority"]).rank, t["body"]["title"])
    )
    for ticket in ordered:
        body = ticket["body"]
        lines.append(
            f"  [{body['priority']:>8}] {body['title']}  ({body['source']}, team {body.get('team') or '-'})"
        )
    lines += _full_ticket(tickets)
    if model is not None:
        lines += _model(model, m, tickets)
    return "\n".join([_for_terminal(lines), *_dead_letters(result, dead)])


def _for_terminal(lines: list[str]) -> str:
    """`lines` (alert and model text among them, stored or sent) as one text for a terminal:
    split at "\n" only (a line separator or other break in alert text is escaped, not
    obeyed) and each line `terminal_text`, so a title spelling `\\u202e` reads apart from one
    holding the bidi override."""
    return "\n".join(terminal_text(line) for line in "\n".join(lines).split("\n"))


def _full_ticket(tickets: list[dict[str, Any]]) -> list[str]:
    """The sample's ticket as the backend received it, and the GitHub issue it would open."""
    sample = (resources.files("triage.demo") / "alerts" / FULL_TICKET_SAMPLE).read_bytes()
    [source] = normalize_body(sample).alerts
    body = next(
        (t["body"] for t in tickets if t["body"].get("fingerprint") == source.fingerprint), None
    )
    if body is None:
        return []
    ticket = Ticket(
        title=body["title"],
        priority=Priority(body["priority"]),
        description=body["description"],
        steps=tuple(body["steps"]),
    )
    lines = [
        "",
        f"one ticket in full ({FULL_TICKET_SAMPLE}, as the backend received it):",
        f"  title     {ticket.title}",
        f"  priority  {ticket.priority.value}",
        "  description",
        *_indented(ticket.description, "    "),
        "  steps",
        *(f"    {n}. {step}" for n, step in enumerate(ticket.steps, 1)),
    ]
    effect = Effect(
        kind=EffectKind.OPEN,
        fingerprint=source.fingerprint,
        alert=redact_alert(source, Redactor()),
        ticket=ticket,
        ref=None,
        occurrences=1,
        new_occurrences=1,
        flapping=False,
        idempotency_key=f"{source.fingerprint}:0",
    )
    lines += [
        "",
        "the GitHub issue it would open (TRIAGE_SINKS=github):",
        f"  title   {issue_title(effect)}",
        f"  labels  {', '.join(issue_labels(effect))}",
        "  body",
        *_indented(issue_body(effect), "  | "),
    ]
    return lines


def _model(model: ModelRun, metrics: Metrics, tickets: list[dict[str, Any]]) -> list[str]:
    """What the LLM path did: the prompt of the full ticket's sample, then its metrics."""
    lines = ["", f"the model (the loopback stand-in at {model.url}, TRIAGE_LLM_PROVIDER=openai):"]
    prompt = next(
        (r for r in model.requests if alert_in(r).get("title", "").startswith("Nightly backup")),
        None,
    )
    if prompt is not None:
        system, user = texts(prompt)[:2]
        # Wrapped, not cut: the hint's steps and the redacted raw payload are the point.
        shown = [
            wrapped
            for line in user.splitlines()
            for wrapped in textwrap.wrap(
                line, _LINE_CHARS, subsequent_indent="    ", break_on_hyphens=False
            )
            or [""]
        ]
        lines += [
            f"  the prompt for the backup alert: a fixed system message ({len(system.splitlines())}"
            " lines of instructions), then this user message, redacted (see the description):",
            *(f"  > {line}" for line in shown[:_PROMPT_LINES]),
        ]
        if len(shown) > _PROMPT_LINES:
            lines.append(f"  > … ({len(shown) - _PROMPT_LINES} more lines)")
    calls = _by(metrics, "LLMCalls", "outcome")
    fallbacks = _by(metrics, "LLMFallbacks", "reason")
    latency = [t for (name, _), t in metrics.timings().items() if name == "LLMLatency"]
    count = sum(t.count for t in latency)
    mean_ms = sum(t.total for t in latency) / count if count else 0.0
    lines += [
        "  its metrics:",
        f"    LLMCalls              {_pairs(calls)}",
        f"    SummarizationFailures {int(metrics.total('SummarizationFailures'))}"
        f"  (LLMFallbacks: {_pairs(fallbacks)}; the deterministic summariser wrote those tickets)",
        f"    LLMGroundingRejects   {int(metrics.total('LLMGroundingRejects'))}"
        "  (facts the model stated that the alert does not hold: marked [unverified])",
        f"    LLMTokensIn           {int(metrics.total('LLMTokensIn'))}"
        f"  LLMTokensOut {int(metrics.total('LLMTokensOut'))}  (the stand-in reports triage's estimate)",
        f"    LLMLatency            {count} calls, mean {mean_ms:.0f} ms",
    ]
    marked = [t["body"] for t in tickets if "[unverified]" in t["body"]["description"]]
    for body in sorted(marked, key=lambda b: str(b["title"])):
        lines += [f"  what grounding left of the description of {body['title']!r}:"]
        lines += _indented(body["description"], "    ")
    return lines


def _dead_letters(result: RunResult, dead: list[dict[str, Any]]) -> list[str]:
    if not dead:
        return []
    redactor = Redactor()
    lines = ["", "dead letters (SQS redrove them after failed receives):"]
    shown = []
    for message in dead:
        failure = result.stats.failures.get(message["MessageId"])
        why = f"{failure.reason}: {failure.error}" if failure else "reason not recorded"
        # Dead letters are alert text, and their errors may quote it: shown redacted.
        why = redactor.text(why)
        # Redacted while it has its lines, then joined and cut with "…" and redacted again:
        # the redactor knows what a cut leaves of a credential by that mark.
        body = " ".join(redactor.text(message["Body"]).split())
        preview = redactor.text(cut(body, 50, ellipsis=True, whole_words=True))
        # The preview as Python's repr spells it (which doubles every backslash of its own),
        # the error as stored text.
        sample = _sample_of(message)
        named = f"{terminal_line(sample)}: " if sample else ""
        shown.append(f"  {named}{terminal_line(repr(preview))}\n      why: {_for_terminal([why])}")
    return lines + sorted(shown)


def _sample_of(message: dict[str, Any]) -> str | None:
    """The sample file a dead letter was sent from, when its attribute came back with it."""
    attribute = message.get("MessageAttributes", {}).get(SAMPLE_ATTRIBUTE, {})
    sample = attribute.get("StringValue") if isinstance(attribute, dict) else None
    return sample if isinstance(sample, str) and sample else None


def _by(metrics: Metrics, name: str, dimension: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for (series, dims), value in metrics.counters().items():
        if series == name:
            key = dict(dims).get(dimension, "-")
            out[key] = out.get(key, 0) + int(value)
    return out


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _indented(text: str, prefix: str) -> Sequence[str]:
    return [f"{prefix}{line}".rstrip() for line in text.splitlines()]
