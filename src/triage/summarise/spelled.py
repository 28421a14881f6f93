"""The process's own credentials spelled out in a model's words, for the summariser's count.

Every redaction removes a held credential spelled out (with a separator between its
characters, in capitals, backwards, as hex, in fullwidth letters; `redact/spelled.py`), so no
ticket or log line carries one. The summariser asks beforehand whether the model wrote one, to
count it as a 'credential' reject (`LLMGroundingRejects`): a model echoing the key its request
carried is a compromised or hostile server, which the operators should see.
"""

from __future__ import annotations

from triage.redact.held import held
from triage.redact.spelled import MARK, MIN_CHARS
from triage.redact.spelled import unspelled as _unspelled

__all__ = ["MARK", "MIN_CHARS", "spells_credential", "unspelled"]


def unspelled(text: str) -> str:
    """`text` with every spelling of a credential the process holds (`redact.hold`) replaced
    by MARK, from its first character to its last (the redactor does this on every path)."""
    return _unspelled(text, held())


def spells_credential(text: str) -> bool:
    """Whether `text` spells a credential the process holds otherwise than as it is: an exact
    echo is the redactor's ordinary work, a spelling is a model (or its server) working
    around it."""
    holding = held()
    exact = text
    for secret in holding:
        exact = exact.replace(secret, MARK)
    return _unspelled(exact, holding) != exact
