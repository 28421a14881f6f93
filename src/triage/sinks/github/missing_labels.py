"""Labels a repository lacks while our credentials may not create them, remembered for a while.

GitHub creates a label an issue names when the repository lacks it, if the credentials may; if
not, it refuses the whole create (403 "You do not have permission to create labels"), or the
label added to an issue. Its answer does not say which label, so the sink leaves out what it
can, step by step (`sink._without_refused`): a repository without an incident's
`priority:P1` costs three creates, the last with `triage` alone. Asking again for every
incident would cost as much each time; so a label the steps tell apart (the one label that
makes the difference between a refused request and the one that went through) is remembered
for the repository, and left out of later requests without asking, for `RECHECK_S`: after
that it is asked for again, as someone may have created it. Each incident then costs at most
one refused call (a label the steps cannot tell apart: of several a route or the alert named).

This process's memory only (replicas each learn it once: a saving, nothing they must agree
on), bounded as `Refusals` is.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

import triage.sinks.github.text as text
from triage.models import Priority
from triage.sinks.github.refusals import RECHECK_S, Refusals

log = structlog.get_logger(__name__)

#: Labels of triage's own fixed form, which a log line may name.
_OWN = frozenset(
    [text.FLAPPING_LABEL, text.DIGEST_LABEL] + [f"priority:{text.p_number(p)}" for p in Priority]
)


class MissingLabels:
    """Per repository, the labels GitHub refused to create lately (names compared in lower
    case: GitHub's label names ignore case)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._refused = Refusals(clock)

    def kept(self, repository: str, labels: list[str]) -> list[str]:
        """`labels` without those `repository` was found to lack lately."""
        return [name for name in labels if not self._refused.known(_key(repository, name))]

    def learn(self, repository: str, refused: list[str], taken: list[str]) -> None:
        """GitHub refused a request naming the labels `refused` and took one naming `taken`:
        when one label alone tells them apart, `repository` lacks it (and our credentials may
        not create it)."""
        taken_keys = {name.lower() for name in taken}
        left_out = [name for name in refused if name.lower() not in taken_keys]
        if len(left_out) != 1 or left_out[0] == text.TRIAGE_LABEL:
            return
        [label] = left_out
        self.note(repository, label)

    def note(self, repository: str, label: str) -> None:
        """`repository` lacks `label` and GitHub refused to create it: one info line (the
        refusal itself had its warning), naming the label when it is triage's own."""
        self._refused.note(_key(repository, label))
        log.info(
            "github.label_missing",
            repository=repository,
            label=label if label in _OWN else None,
            action="leave_out",
            recheck_s=RECHECK_S,
        )


def _key(repository: str, label: str) -> tuple[str, str]:
    return repository.lower(), label.lower()
