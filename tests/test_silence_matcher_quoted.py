"""A matcher's refusal quotes it redacted before it is cut, so a credential pasted across the
cut leaves no piece of itself in the error."""

from __future__ import annotations

import pytest

from triage.incidents.silences import Matcher

#: A classic GitHub token's shape (ghp_ and 36 letters or digits), built so no scanner flags it.
TOKEN = "ghp_" + "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7j"


@pytest.mark.parametrize(
    "typed",
    [
        # No operator: the whole text is quoted, cut at 60 inside the token.
        "x" * 40 + " " + TOKEN,
        # A name that is no field or label name: the name is quoted, cut at 60 inside the token.
        "a b" + "x" * 36 + " " + TOKEN + "=v",
    ],
)
def test_a_matchers_refusal_quotes_no_piece_of_a_secret_cut_inside_it(typed: str) -> None:
    """Matcher.parse's refusal of a matcher holding a token across its 60-character cut shows
    none of the token's secret characters."""
    with pytest.raises(ValueError, match="matcher") as refused:
        Matcher.parse(typed)
    message = str(refused.value)
    assert TOKEN[4:16] not in message
    assert "ghp_" + TOKEN[4:10] not in message
