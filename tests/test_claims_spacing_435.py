"""Claims read however long the whitespace between their words (task 435): five or more spaces,
tabs or line breaks between "all" and "clear" hide no claim, gated as ungated, and the text
around a marked claim keeps its own whitespace."""

from __future__ import annotations

import pytest

from scaling import assert_linear
from triage.summarise import claims, grounding
from triage.summarise.grounding import MARK


def _ungated(text: str) -> tuple[str, int]:
    """What every language's claims mark in `text`, with no literal gate before them."""
    marked = 0
    for language in claims._LANGUAGES:
        text, count = claims._marked_in(text, language)
        marked += count
    return text, marked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Note: all      clear.", f"Note: {MARK}."),
        ("Note: all\t\t\t\t\t\tclear.", f"Note: {MARK}."),
        ("The  alert  is" + " " * 12 + "resolved  now.", f"The  alert  {MARK}  now."),
        ("It was      only      a      test.", f"It {MARK}."),
        ("No" + "\u00a0" * 7 + "action needed here.", f"{MARK} here."),
        ("Please" + " \t" * 5 + "ignore  it.", f"{MARK}  it."),
        ("Mute    \t   the    alert for a week.", f"{MARK} for a week."),
        ("The outage is" + " " * 30 + "over.", f"The {MARK}."),
        ("Checkout:  State:" + "\n" * 6 + "OK", f"Checkout:  {MARK}"),
        ("C'est      juste      un      test.", f"{MARK}."),
    ],
)
def test_a_claim_with_a_long_whitespace_run_between_its_words_is_marked(
    text: str, expected: str
) -> None:
    """A run of five or more whitespace characters between a claim's words hides no claim: it
    is marked where it stands, the whitespace around it kept, gated as ungated."""
    assert claims._marked_claims(text) == (expected, 1)
    assert _ungated(text) == (expected, 1)


@pytest.mark.parametrize(
    "text",
    [
        "It has      not" + " " * 9 + "recovered yet.",
        "Close the ticket" + " " * 8 + "once the rate is back under 1%.",
        "Confirm it is      back      to      normal.",
        "Previous" + " " * 6 + "state: OK, state now: ALARM.",
    ],
)
def test_a_long_whitespace_run_hides_no_condition_negation_or_previous_state(text: str) -> None:
    """A negation, a check or a condition spaced out by a long whitespace run still makes the
    claim none, as does a previous state's name: nothing is marked."""
    assert claims._marked_claims(text) == (text, 0)
    assert _ungated(text) == (text, 0)


def test_a_spaced_claim_in_a_checked_text_is_counted() -> None:
    """`check` counts a claim spaced by a long run as a claim, for a firing alert only."""
    text = "Everything is back" + " " * 10 + "to normal."
    checked = claims.check(text, grounding.evidence({}), firing=True)
    assert checked.rejected == ("claim",)
    assert checked.text == f"Everything is {MARK}."
    assert claims.check(text, grounding.evidence({}), firing=False).text == text


def test_checking_claims_is_linear_in_long_whitespace_runs() -> None:
    """Text of long whitespace runs between claim words costs time in proportion to its
    length."""

    def shapes(n: int) -> list[str]:
        return [
            " " * 20 * n,
            "\t \u00a0" * 7 * n,
            ("is" + " " * 18) * n,
            ("all" + " " * 17 + "-") * n,
            ("no  action" + " " * 10) * n,
            ("resolved" + "\n" * 12) * n,
            ("state:" + " " * 14) * n,
        ]

    def check_all(n: int) -> None:
        for text in shapes(n):
            claims._marked_claims(text)

    assert_linear(check_all, 200)
