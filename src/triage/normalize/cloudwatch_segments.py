"""The `TEAM=… | PRIORITY=… | RUNBOOK=… | SEVERITY=…` segments of a CloudWatch alarm's
description: split from its free text (on newlines when there are any, else on "|"; keys in
any case, "=" or ":"). A line that starts with a segment may hold several, however they are
separated ("TEAM=a PRIORITY=b", "team=a, priority=b", "[TEAM=a] [PRIORITY=b]",
"TEAM=a / PRIORITY=b"). A fact named twice with another value ("TEAM=a | TEAM=b"): the first
is used, the second stays in the free text marked as not used, and a note says so.

A description written in Markdown is read too: a segment as a list item ("- TEAM=a", "1. TEAM=a"),
with a bold key ("**Team:** a", "**TEAM**=a") or in code spans ("`TEAM=a` `PRIORITY=b`"), and a
RUNBOOK given as a Markdown link ("[runbook](https://…)") or an autolink ("<https://…>"), which
is its URL. A list item of prose keeps its marker in the free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.normalize import common

#: The segment keys a description (or a propagated alarm tag) may name, in any case, as the
#: facts they give.
SEGMENT_KEYS = {"team": "team", "priority": "priority", "severity": "severity"}
SEGMENT_KEYS |= {"runbook": "runbook", "runbook_url": "runbook", "runbookurl": "runbook"}


@dataclass(frozen=True, slots=True)
class Description:
    """An alarm description read: its segments' facts, its free text, and notes for the log
    (a segment named twice with another value)."""

    facts: dict[str, str]
    free_text: str
    notes: tuple[str, ...] = ()


def parse_description(description: str) -> tuple[dict[str, str], str]:
    """Split `KEY=value` segments (team, priority, runbook, severity) from the free text."""
    read = read_description(description)
    return read.facts, read.free_text


def read_description(description: str) -> Description:
    """`parse_description`, with a note for each segment that names a fact already given with
    another value ("TEAM=a | TEAM=b"): the first is used, and the second stays in the free
    text, marked as not used, so a reader sees both and routing does not change silently."""
    if "\n" in description:
        parts, joiner = description.split("\n"), "\n"
    else:
        parts, joiner = description.split("|"), " | "
    facts: dict[str, str] = {}
    rest: list[str] = []
    notes: list[str] = []
    for part in parts:
        pieces = [part]
        if joiner == "\n" and "|" in part and all(_segment(_unmarked(p)) for p in part.split("|")):
            pieces = part.split("|")  # one line of "TEAM=a | PRIORITY=b" inside a multi-line text
        for piece in (run for whole in pieces for run in _runs(whole)):
            segment = _segment(piece)
            if segment is None:
                if piece.strip():
                    rest.append(piece.strip())
            elif segment[1]:  # "TEAM=" with nothing after it says nothing
                conflict = _conflict(facts, segment, piece)
                if conflict is not None:
                    rest.append(f"{piece.strip()} {_NOT_USED}")
                    notes.append(conflict)
    return Description(facts, joiner.join(rest), tuple(notes))


#: How a segment that names a fact already given is marked in the free text.
_NOT_USED = "(not used: an earlier segment gave another value)"


def _conflict(facts: dict[str, str], segment: tuple[str, str], piece: str) -> str | None:
    """Record `segment` in `facts` when its fact is new; a note when the fact was given
    before with another value (the same value again, in any case, is a repeat)."""
    fact, value = segment
    first = facts.get(fact)
    if first is None:
        facts[fact] = value
        return None
    if first.casefold() == value.casefold():
        return None
    key = piece.strip().lstrip("[(")[:20].partition("=")[0].partition(":")[0].strip()
    return (
        f"AlarmDescription names {common.short(key, 20)} more than once: "
        f"{common.short(first)} is used, {common.short(value)} is kept in the description"
    )


#: Where a `KEY=` or `KEY:` segment starts inside a piece: at its start, or after a space,
#: comma or semicolon, perhaps in brackets ("[TEAM=a]"). A key inside a link's query string
#: ("?team=a&priority=b") follows "?" or "&", so a runbook link is never cut.
_KEY_START = re.compile(
    r"(?:^|(?<=[\s,;]))[\[(]?(?=(?:team|priority|severity|runbook(?:[ _]?url)?)\s*[=:])",
    re.IGNORECASE,
)


def _segment_run(piece: str) -> list[str]:
    """A piece that starts with a segment, as one piece per segment it holds ("TEAM=a
    PRIORITY=b", "TEAM=a, PRIORITY=b", "[TEAM=a] [PRIORITY=b]"), separators and brackets
    dropped; any other piece as it is (prose that mentions a key further on stays prose).
    Without this the first value swallowed the others: team "a PRIORITY=b", no priority."""
    starts = [m.start() for m in _KEY_START.finditer(piece)]
    if not starts or piece[: starts[0]].strip():
        return [piece]
    ends = [*starts[1:], len(piece)]
    return [part for a, b in zip(starts, ends, strict=True) for part in _unbracketed(piece[a:b])]


#: A Markdown list item's marker ("- ", "* ", "+ ", "• ", "1. ", "2) ").
_LIST_MARKER = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+")
#: Markdown's bold and code-span markup ("**Team:** a", "`TEAM=a`"), which says nothing of a
#: segment's key or value. A single "*" or "_" is left: "runbook_url" and links hold them.
_MARKUP = re.compile(r"\*\*|__|`")


def _unmarked(piece: str) -> str:
    """`piece` without Markdown's list marker and bold or code-span markup, when that is what
    stood between it and its segments ("- TEAM=a", "**Team:** a", "`TEAM=a` `PRIORITY=b`");
    else `piece` as it is, so a bullet of prose keeps its marker in the free text."""
    unlisted = _LIST_MARKER.sub("", piece, count=1)
    if unlisted == piece and not _MARKUP.match(piece.lstrip()):
        return piece  # no Markdown before its first segment: read as it always was
    plain = _MARKUP.sub("", unlisted).strip()
    return plain if _KEY_START.match(plain) else piece


def _runs(whole: str) -> list[str]:
    """`_segment_run` of the piece, read without its Markdown when that gives a segment (an
    alarm description may be written in Markdown, which the CloudWatch console shows): a list
    of segments no longer leaves the alarm without its team, priority and runbook."""
    plain = _unmarked(whole)
    if plain is not whole:
        runs = _segment_run(plain)
        if any(_segment(run) for run in runs):
            return runs
    return _segment_run(whole)


#: A link written in Markdown ("[text](https://…)") or as an autolink ("<https://…>", Slack's
#: "<https://…|text>"): the URL inside it.
_LINKED = re.compile(r"\[[^\]]*\]\(\s*(?P<md>[^\s()]+)\s*\)|<(?P<auto>[^\s<>|]+)(?:\|[^<>]*)?>")


def _link_target(value: str) -> str:
    """A RUNBOOK value that is one link written as Markdown or an autolink, as its URL; any
    other value as it is (`common.url` decides what a runbook link may be)."""
    found = _LINKED.fullmatch(value)
    if found is None:
        return value
    return found.group("md") or found.group("auto") or value


_CLOSER = {"[": "]", "(": ")"}
#: What separates one segment from the next on a line: a comma or semicolon, or a slash or
#: dash standing alone ("TEAM=ops / PRIORITY=P1"); "ops-team" keeps its dash.
#: It starts only after a character that is none of these, so a long run of them is scanned
#: once, not once per character.
_TRAILING_SEPARATOR = re.compile(r"(?<![\s,;/\u2013\u2014-])\s[\s,;/\u2013\u2014-]*$")


def _unbracketed(piece: str) -> list[str]:
    """One segment without its separators; a bracketed one ("[TEAM=a] free text") as the
    segment and the text after its bracket."""
    s = _TRAILING_SEPARATOR.sub("", piece.strip().rstrip(",;").rstrip()).rstrip(",;")
    closer = _CLOSER.get(s[:1])
    if closer and closer in s:
        inside, _, after = s[1:].partition(closer)
        return [inside, after] if after.strip() else [inside]
    return [s]


def _segment(piece: str) -> tuple[str, str] | None:
    s = piece.strip()
    cuts = [i for i in (s.find("="), s.find(":")) if i > 0]
    if not cuts:
        return None
    key = SEGMENT_KEYS.get("".join(s[: min(cuts)].lower().split()))
    value = s[min(cuts) + 1 :].strip()
    if key == "runbook":
        value = _link_target(value)
    colon = s[min(cuts)] == ":"
    if colon and (len(value) > _SEGMENT_VALUE_MAX or len(value.split()) > _SEGMENT_WORDS_MAX):
        return None  # "Severity: High - CPU above 80% for 5 minutes …" is prose, kept as such
    return (key, value) if key else None


#: A `Key: value` segment's value is a name, a level or a link, not a sentence (`KEY=` is
#: explicit: its value is taken whatever it says).
_SEGMENT_VALUE_MAX = 100
_SEGMENT_WORDS_MAX = 3
