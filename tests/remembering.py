"""A redactor for tests that redact the same texts again and again: it remembers every text it
redacted, long ones too (the daemon's remembers short ones only), for the credentials it
redacted them with. Redaction is a function of the text and the credentials, so what it
answers is what a fresh redactor would.

The hostile samples are rendered, redacted twice and shown to the prompt by three property
tests in one module; with one such redactor between them, each text's first pass is made once
in a worker instead of once per property. The secret-packed rounds go through four effects
each, twice when a digest takes them, with the same texts.
"""

from __future__ import annotations

from triage.redact import Redactor


class RememberingRedactor(Redactor):
    """`Redactor`, remembering each answer until the credentials it redacts change."""

    def __init__(self, *known: str) -> None:
        super().__init__(lambda: known)
        self._remembered: tuple[tuple[str, ...], dict[str, str]] = ((), {})

    def text(self, text: str) -> str:
        secrets = self._secrets()
        remembered_for, remembered = self._remembered
        if remembered_for != secrets:  # a credential held since: every answer is made again
            remembered = {}
            self._remembered = (secrets, remembered)
        done = remembered.get(text)
        if done is None:
            done = remembered[text] = super().text(text)
        return done
