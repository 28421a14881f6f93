"""How the prompt shows a fresh view, against how it showed one before views were trusted as
redacted: the payload redacted and cut, then the whole view, excerpt and fields, redacted again
by the prompt. `differences` names each alert and excerpt size where the two differ, or where
redacting the shown view once more changes it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

from triage.models import Alert
from triage.normalize.common import cut
from triage.redact import Redactor
from triage.summarise import prompt
from triage.view import redact_alert, redacted_by

#: Excerpt lengths: the daemon's (1,500 tokens), and a shorter one that cuts most payloads.
EXCERPT_CHARS = (6000, 120)
#: A budget that shows the whole view: past it, the prompt cuts the same view the same way.
WHOLE = 1_000_000


def differences(
    sources: tuple[Alert, ...], redactor: Redactor, excerpt_chars: tuple[int, ...] = EXCERPT_CHARS
) -> Iterator[str]:
    """How the prompt's view of each fresh view differs from the view made as before the view
    was trusted (the payload redacted and cut, then the whole view, excerpt and fields,
    redacted again by the prompt), or from redacting it once more."""
    for source in sources:
        raw = json.dumps(redactor.value(source.raw), ensure_ascii=False, separators=(",", ":"))
        for chars in excerpt_chars:
            fresh = redact_alert(source, redactor, excerpt_chars=chars)
            assert redacted_by(fresh, redactor)
            before = dataclasses.replace(
                fresh, payload_excerpt=cut(raw, chars, ellipsis=True), redaction=None
            )
            shown = prompt.alert_view(fresh, redactor, WHOLE)
            if shown != prompt.alert_view(before, redactor, WHOLE):
                yield f"{source.title[:60]!r}, excerpt {chars}: not as before"
            if redactor.value(shown) != shown:
                yield f"{source.title[:60]!r}, excerpt {chars}: redacting again changes it"
