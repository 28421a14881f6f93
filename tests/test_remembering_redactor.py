"""`RememberingRedactor` (tests/remembering.py) answers what a fresh `Redactor` does: the
property tests that share one trust each answer it remembers to be the redaction it stands for.
"""

from __future__ import annotations

from remembering import RememberingRedactor
from triage.redact import Redactor, hold

#: A value an alert held under a secret's name, repeated in a field plain and disguised (an
#: escape makes `without` run a whole pass again).
HELD = "Hunt3rTw0Sekret"
TEXTS = [f"seen {HELD} here", f"seen \\u0048unt3rTw0Sekret and {HELD} \x1b[31m", "nothing"]


def test_without_answers_as_a_fresh_redactor_for_each_text_and_values() -> None:
    """Asked twice, and with other values, `without` answers each (text, values) as a fresh
    redactor does: the values are part of what it remembers an answer under."""
    remembering = RememberingRedactor("own-credential-1234")
    fresh = Redactor(lambda: ("own-credential-1234",))
    for also in [(HELD,), (), ("other-value-99",), (HELD,)]:
        for text in TEXTS:
            redacted = fresh.text(text)
            assert remembering.without(redacted, also) == fresh.without(redacted, also)


def test_an_answer_is_made_again_once_a_credential_is_held() -> None:
    """A credential held after `without` answered a disguised text (one it redacts again with
    the credentials) is taken out when that text is asked again, as a fresh redactor does:
    answers are remembered for the credentials they were made with."""
    remembering = RememberingRedactor()
    text = "key Zq9Xw8Ec7Rv6Tb5Yn4 \\u0041 \x1b[31m and " + HELD
    assert "Zq9Xw8Ec7Rv6Tb5Yn4" in remembering.without(text, (HELD,))
    hold("Zq9Xw8Ec7Rv6Tb5Yn4")
    again = remembering.without(text, (HELD,))
    assert "Zq9Xw8Ec7Rv6Tb5Yn4" not in again
    assert again == Redactor().without(text, (HELD,))
