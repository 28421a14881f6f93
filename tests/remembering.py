"""A redactor for tests that redact the same texts again and again: it remembers every text it
redacted, long ones too (the daemon's remembers short ones only), and every text it took an
alert's own held values out of (`without`), for the credentials it redacted them with.
Redaction is a function of the text and the credentials (and `without` of the text, the values
and the credentials), so what it answers is what a fresh redactor would.

The hostile samples are rendered, redacted twice and shown to the prompt by three property
tests in one module; with one such redactor between them, each text's first pass is made once
in a worker instead of once per property. The secret-packed rounds go through four effects
each, twice when a digest takes them, with the same texts. Each alert view made again (the
prompt's, each effect's) takes the same values out of the same fields again: a field holding
a disguise (markup's escapes, bidi controls) costs a whole pass each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.redact import Redactor


@dataclass
class _Answers:
    """What was answered for one set of credentials."""

    secrets: tuple[str, ...] = ()
    texts: dict[str, str] = field(default_factory=dict)
    without: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)


class RememberingRedactor(Redactor):
    """`Redactor`, remembering each answer until the credentials it redacts change."""

    def __init__(self, *known: str) -> None:
        super().__init__(lambda: known)
        self._answers = _Answers()

    def _current(self) -> _Answers:
        """The answers for the credentials held now: none, when a credential was held since."""
        secrets = self._secrets()
        if self._answers.secrets != secrets:  # every answer is made again
            self._answers = _Answers(secrets)
        return self._answers

    def text(self, text: str) -> str:
        texts = self._current().texts
        done = texts.get(text)
        if done is None:
            done = texts[text] = super().text(text)
        return done

    def without(self, redacted: str, also: tuple[str, ...]) -> str:
        answered = self._current().without
        done = answered.get((redacted, also))
        if done is None:
            done = answered[redacted, also] = super().without(redacted, also)
        return done
