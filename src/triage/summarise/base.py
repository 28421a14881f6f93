"""The `Summariser` seam: turns a canonical alert into the ticket a person reads first."""

from __future__ import annotations

from typing import Protocol

from triage.models import Ticket
from triage.view import RedactedAlert

#: The ticket contract every summariser keeps (the model's answer is cut to it):
TITLE_CHARS = 120
DESCRIPTION_CHARS = 4000
STEP_CHARS = 300
MAX_STEPS = 8


class Summariser(Protocol):
    """Writes one ticket for a new incident. Called once per incident, never per message."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        """Return the ticket; may raise SummariserError (callers then fall back)."""
        ...

    async def aclose(self) -> None:
        """Release clients; called once at shutdown."""
        ...
