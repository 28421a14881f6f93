"""The redactor remembers the last few long texts it redacted (a long description is read as a
payload field and again as the view's description), for the credentials it redacted them with:
a credential known since is redacted from the same text at once, and a text past the bound is
never kept."""

from __future__ import annotations

from triage.redact import Redactor
from triage.redact.redactor import _LONG_MEMO_CHARS, _LONG_MEMO_ENTRIES, _MEMO_CHARS

#: A long description with a password in it, over the short texts' memo.
LONG = "disk full on db-7; " * 40 + "password=hunter2-Zq8\n" + "retry later. " * 10


class Counting(Redactor):
    """A redactor that counts the texts it really reads (not answered from a memo)."""

    def __init__(self, known: list[str] | None = None) -> None:
        self.known = known if known is not None else []
        super().__init__(lambda: self.known)
        self.reads = 0

    def _settled(self, text: str, secrets: tuple[str, ...]) -> str:
        self.reads += 1
        return super()._settled(text, secrets)


def test_a_long_text_redacted_twice_is_read_once() -> None:
    """The same long text (an equal string, not only the same object) is read once."""
    assert len(LONG) > _MEMO_CHARS
    redactor = Counting()
    first = redactor.text(LONG)
    again = redactor.text("".join(list(LONG)))
    assert again == first and "hunter2" not in first
    assert redactor.reads == 1


def test_a_credential_known_since_is_redacted_from_a_remembered_long_text() -> None:
    """Once the process knows a credential the long text quotes, the text is read again and
    the credential is gone from it."""
    token = "bk-live-Q7fz2LkP9wXs4RtY"
    text = LONG + f" the backend refused {token}"
    known: list[str] = []
    redactor = Counting(known)
    assert token in redactor.text(text)
    known.append(token)
    assert token not in redactor.text(text)
    assert redactor.reads == 2


def test_only_the_last_few_long_texts_are_kept() -> None:
    """Past the last `_LONG_MEMO_ENTRIES` long texts the oldest is read again; the newest are
    still remembered."""
    redactor = Counting()
    texts = [f"{i}: {LONG}" for i in range(_LONG_MEMO_ENTRIES + 1)]
    for text in texts:
        redactor.text(text)
    assert redactor.reads == len(texts)
    redactor.text(texts[-1])
    assert redactor.reads == len(texts)
    redactor.text(texts[0])
    assert redactor.reads == len(texts) + 1


def test_a_text_past_the_bound_is_never_kept() -> None:
    """A text over `_LONG_MEMO_CHARS` is read each time it comes."""
    huge = LONG * (_LONG_MEMO_CHARS // len(LONG) + 1)
    redactor = Counting()
    redactor.text(huge)
    redactor.text(huge)
    assert redactor.reads == 2
