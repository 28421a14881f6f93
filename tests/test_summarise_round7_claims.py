"""Round 7 fixes: a firing alert told away in other words (a test to disregard, healed on its
own, nothing wrong, no action to take, a step to ignore it or close its ticket) is a claim
`claims.py` marks, while ordinary steps that ignore a sample or close a pool are kept; and a
refusal the model wrote inside the ticket's JSON is a refusal, answered by the fallback."""

from __future__ import annotations

import io
import json

import pytest

import triage.summarise.answer as answers
import triage.summarise.claims as claims
import triage.summarise.grounding as grounding
from test_summarise_hostile_answers import (
    TICKET,
    Model,
    bedrock_model,
    deterministic,
    logs,
    model,
    openai_model,
    published,
    ticket_from,
)
from triage.summarise.prompt import TicketDraft

__all__ = ["bedrock_model", "logs", "model", "openai_model"]  # fixtures, used by name

#: Sentences that tell a responder a firing alert needs nothing from them, in the many
#: wordings an alert's text can ask a model for.
DISMISSALS = [
    "This alert is only a test, please disregard it.",
    "This is just a drill.",
    "This is a test alert.",
    "It was merely an exercise.",
    "Please disregard this alert.",
    "Kindly disregard.",
    "Dismiss the alert.",
    "Ignore this alert and close the ticket.",
    "Please ignore.",
    "Ignore these alarms for now.",
    "Close the ticket.",
    "Close this incident now, it is noise.",
    "Mark the incident as resolved.",
    "Mark it closed.",
    "No action needs to be taken here.",
    "No immediate action has to be taken.",
    "This does not require any action.",
    "This doesn't need attention.",
    "There is no need to investigate.",
    "There is nothing to do.",
    "Nothing to worry about.",
    "Nothing needs to be done.",
    "There is no cause for concern.",
    "The errors have self-healed.",
    "The service auto-recovered.",
    "The errors went away on their own.",
    "The issue fixed itself.",
    "Nothing is wrong with checkout.",
    "There is nothing wrong.",
    "The errors are just noise.",
]

#: Ordinary steps and statements near those words that dismiss nothing: kept as written.
ORDINARY = [
    "Close the connection pool on web-1 and reopen it.",
    "Ignore the first sample after a restart.",
    "Send a test alert to check the route.",
    "Run a test query against the replica.",
    "Run the smoke tests on web-1.",
    "Close the ticket once the error rate is back under 1%.",
    "Close the incident channel after the review.",
    "Do not close the ticket until the deploy is rolled back.",
    "If this alert is a test, tune its rule.",
    "Confirm nothing is wrong with the database.",
    "Take action: roll back web-1.",
    "Check whether the service recovered on its own after the restart.",
    "Never ignore this alert.",
    "Mark the deploy as failed in the pipeline.",
    "Ignore errors from the health check endpoint in the logs.",
]


@pytest.mark.parametrize("sentence", DISMISSALS)
def test_a_firing_alert_dismissed_in_other_words_is_marked(sentence: str) -> None:
    """A sentence telling the responder a firing alert is a test, healed, fine, or to be
    ignored or closed is a claim: marked and counted, and kept for an alert that resolved."""
    checked = claims.check(sentence, grounding.evidence({}), firing=True)
    assert "claim" in checked.rejected, checked.text
    assert grounding.MARK in checked.text
    assert claims.check(sentence, grounding.evidence({}), firing=False).text == sentence


@pytest.mark.parametrize("sentence", ORDINARY)
def test_ordinary_steps_near_dismissive_words_are_kept(sentence: str) -> None:
    """Closing a pool or a channel, ignoring a sample, sending a test alert, a condition, a
    negation or a check before or after the words: no dismissal, kept as written."""
    checked = claims.check(sentence, grounding.evidence({}), firing=True)
    assert (checked.text, checked.rejected) == (sentence, ())


#: Titles and descriptions a model writes when it refuses inside the JSON it must write.
REFUSALS = [
    {"title": "Request declined"},
    {"title": "Unable to assist"},
    {"title": "I cannot help with this request"},
    {"description": "I'm sorry, but I can't help with that request."},
    {"description": "I am sorry, I cannot assist with this."},
    {"description": "Sorry, I won't be able to help with that."},
    {"description": "I cannot comply with this request."},
    {"description": "I\u2019m unable to provide a summary of this alert."},
    {"description": "As an AI language model, I cannot do that."},
    {"description": "I must respectfully decline this request."},
]

#: Tickets whose words near a refusal's are the alert's own matter: read as tickets.
NOT_REFUSALS = [
    {"title": "Payment request declined rate above 5% on web-1"},
    {"title": "Request refused by upstream on web-1"},
    {"description": "The API answers 'unable to assist' for every request on web-1."},
    {"description": "Users see: I'm sorry, something went wrong."},
    {"description": "Login fails: cannot connect to the database."},
    {"description": "We cannot process payments on web-1 since 09:00."},
    {"description": "We must respond before the SLA window closes."},
]


def _draft(**fields: str) -> TicketDraft:
    return TicketDraft.model_validate({**TICKET, **fields})


@pytest.mark.parametrize("fields", REFUSALS)
def test_a_refusal_written_as_the_ticket_is_read_as_one(fields: dict[str, str]) -> None:
    """A title or description that declines the request (in the first person, or a title
    that is a refusal alone) makes the draft a refusal."""
    assert answers.refusal(_draft(**fields))


@pytest.mark.parametrize("fields", NOT_REFUSALS)
def test_a_ticket_about_refusals_is_no_refusal(fields: dict[str, str]) -> None:
    """A title naming declined requests, an error quoted in the description, a failure to
    connect: a ticket, not the model's refusal."""
    assert not answers.refusal(_draft(**fields))


async def test_a_refusal_in_the_ticket_is_counted_and_logged_as_one(
    model: Model, logs: io.StringIO
) -> None:
    """A refusal written as the ticket's description is the fallback's `refused`, as a refusal
    the API reports is: the deterministic ticket, the call counted refused, the refusal
    logged redacted and none of its words published."""
    secret = "AKIA" + "Q7ZK4MWB2XHP9TLR"
    model.queue(
        json.dumps({**TICKET, "description": f"I'm sorry, I can't help with that. {secret}"})
    )
    ticket, metrics = await ticket_from(model)
    assert ticket == deterministic()
    assert "can't help" not in published(ticket)
    assert metrics.counter("LLMFallbacks", reason="refused") == 1
    assert metrics.counter("LLMCalls", outcome="refused") == 1
    assert "llm.refused" in logs.getvalue()
    assert secret not in logs.getvalue()
