"""What an incident's GitHub reference names, and how an answer from GitHub becomes one.

A reference is the `html_url` GitHub answered for the issue triage opened
(`https://github.com/acme/ops/issues/12`), or, for an incident listed in a storm digest, of its
comment there (`…/issues/7#issuecomment-99`). Every later effect parses it back into owner,
repository and number to build API paths, so parsing accepts only names GitHub allows: an
answer's URL must not be able to steer later calls elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from triage.errors import GitHubUnavailableError
from triage.sinks.github.api import text_field

#: Owner and name as GitHub allows them (no `..`, no escapes).
_ISSUE_PATH = re.compile(
    r"/(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+)/issues/(?P<number>\d+)/?$"
)
_COMMENT_FRAGMENT = re.compile(r"^issuecomment-(?P<id>\d+)$")

#: Statuses GitHub answers for an issue that is no more: 410 when it was deleted, 404 when it
#: was deleted or transferred where our token cannot read it (or the token lost the repository).
GONE = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class IssueRef:
    """What a reference names: an issue, or (for a storm digest entry) one of its comments."""

    repository: str
    number: int
    comment_id: int | None = None

    @classmethod
    def parse(cls, ref: str) -> IssueRef | None:
        """`https://host/owner/name/issues/12[#issuecomment-34]`; None for anything else."""
        try:
            parts = urlsplit(ref)
        except ValueError:
            return None
        found = _ISSUE_PATH.search(parts.path)
        if found is None or {found["owner"], found["name"]} & {".", ".."}:
            return None
        comment = _COMMENT_FRAGMENT.match(parts.fragment)
        return cls(
            f"{found['owner']}/{found['name']}",
            int(found["number"]),
            int(comment["id"]) if comment else None,
        )


def issue_key(ref: IssueRef) -> tuple[str, int]:
    """The issue `ref` names (a digest entry's: its digest issue), as refusals remember it."""
    return ref.repository.lower(), ref.number


def issue_url(answer: Any, *, comment: bool = False) -> str:
    """The `html_url` of an issue (or, with `comment`, of a comment on one): the reference every
    later effect parses. One that names no issue would leave the incident with a ticket no
    effect can reach (never updated, never closed), so it is a bad answer, retried."""
    url = text_field(answer, "html_url")
    ref = IssueRef.parse(url)
    if ref is None or (ref.comment_id is not None) != comment:
        raise GitHubUnavailableError(
            f"GitHub answered an html_url that names no {'comment' if comment else 'issue'}",
            reason="bad_response",
        )
    return url


def moved_to(ref: IssueRef, issue: dict[str, Any]) -> IssueRef | None:
    """Where `issue`, read through `ref`, lives now, if GitHub's answer names another issue
    (transferred to another repository, or the repository renamed); else None."""
    url = issue.get("html_url")
    now = IssueRef.parse(url) if isinstance(url, str) else None
    if now is None or now.comment_id is not None:
        return None
    if (now.repository.lower(), now.number) == (ref.repository.lower(), ref.number):
        return None
    return now
