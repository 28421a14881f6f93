"""The process's own credentials spelled out in a model's words, for the summariser's count.

Every redaction removes a held credential spelled out (with a separator between its
characters, in capitals, backwards, as hex, in fullwidth letters; `redact/spelled.py`), so no
ticket or log line carries one. The summariser asks beforehand whether the model wrote one, to
count it as a 'credential' reject (`LLMGroundingRejects`): a model echoing the key its request
carried is a compromised or hostile server, which the operators should see. The model's text is
read as the redactor reads it, its escapes undone (`\\u002d` between the characters, each
letter escaped `\\u0073`, `&#45;`): a credential behind escapes is as much a way round the
redactor as one spelled out.
"""

from __future__ import annotations

from triage.redact.disguises import _json_unescaped, _unmasked
from triage.redact.held import held
from triage.redact.spelled import MARK, MIN_CHARS
from triage.redact.spelled import unspelled as _unspelled

__all__ = ["MARK", "MIN_CHARS", "spells_credential", "unspelled"]


def unspelled(text: str) -> str:
    """`text` with every spelling of a credential the process holds (`redact.hold`) replaced
    by MARK, from its first character to its last (the redactor does this on every path)."""
    return _unspelled(text, held())


def _marked(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each of `secrets` written exactly in it replaced by MARK."""
    for secret in secrets:
        text = text.replace(secret, MARK)
    return text


def _undisguised(text: str) -> str:
    """`text` as the redactor's rules read it: JSON's escapes of letters, digits and
    punctuation undone (`\\u0073`, `\\u002d`, `\\x2d`), HTML's references, fullwidth and
    look-alike letters (`disguises`)."""
    return _unmasked(_json_unescaped(text))


def spells_credential(text: str) -> bool:
    """Whether `text` holds a credential the process holds otherwise than as it is: spelled
    out, or behind escapes. An exact echo is the redactor's ordinary work; a spelling or an
    escaped value is a model (or its server) working around it."""
    holding = held()
    if not holding:
        return False
    exact = _marked(text, holding)
    read = _undisguised(exact)
    if read != exact and _marked(read, holding) != read:
        return True
    return _unspelled(read, holding) != read
