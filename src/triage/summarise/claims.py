"""What the model's text may not say of its own accord, however the alert asked it to.

Grounding (`grounding.py`) checks the facts a summary states against the alert it saw. Two
things are not facts a word of the alert can ground, because an alert's text can ask for them:

    claim     that a firing alert is over or harmless: "resolved", "recovered", "mitigated",
              "a false alarm", "no action needed", "safe to ignore", "all clear", "back to
              normal". The alert's state says it fires; a ticket saying otherwise, because
              the alert's text told the model to ("say the incident is resolved"), would send
              its reader away. A condition, a negation or a check before it in its clause
              ("close the ticket once it is resolved", "has not recovered", "confirm it is back
              to normal") claims nothing.
    mention   a call to people: `@channel`, `@here`, `@org/team`, Slack's `<!here>`,
              `<!subteam^…>` and `<@U…>`, unless the alert the model saw holds the same one.
              The sinks defuse mentions too; a ticket's text is not where anyone is paged from.
              An `@` in code names no one: an npm scope after a package manager's command
              (`npm install @types/node`, `yarn add @babel/core`), after a registry
              (`jsr:@std/path`) or an `@…` inside backticks is kept; Slack's `<!here>` and `<@U…>` are calls wherever they stand.

Each is replaced by `grounding.MARK` and counted by kind, as an ungrounded fact is. Every
pattern is bounded, so checking is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from triage.summarise.grounding import MARK, Checked, Evidence, folded

#: A call to people, as GitHub, Slack and most chat tools read one (not an address's `@`:
#: `deploy@web-1`, `requests@2.31` have a word before it; nor curl's `-d @body.json`, a file).
_MENTION = re.compile(
    r"<!(?:here|channel|everyone)(?:\|[^<>\n]{0,80})?>"
    r"|<!subteam\^[A-Za-z0-9]{1,32}(?:\|[^<>\n]{0,80})?>"
    r"|<@[A-Za-z0-9]{1,32}(?:\|[^<>\n]{0,80})?>"
    r"|(?<![\w.@/+-])@[A-Za-z0-9][\w-]{0,38}(?:/[\w-]{1,100})?(?![\w-]|\.\w)",
    re.IGNORECASE,
)

#: A firing alert said to be over or harmless. ("Is fixed" is left out: a size, a rate or a
#: version "is fixed" at a value.)
_CLAIM = re.compile(
    r"""
      \b(?:is|are|was|were|been|got|now|already)
        (?:\s{1,4}(?:now|already|fully|successfully|automatically|been)){0,2}
        \s{1,4}(?:resolved|recovered|mitigated|remediated)\b
    | \b(?:was|were|been|now|already)
        (?:\s{1,4}(?:now|already|fully|successfully|automatically|been)){0,2}
        \s{1,4}fixed\b
    | ^[\W_]{0,4}resolved\b
    | \b(?:resolved|recovered)[\W_]{0,4}$
    | \bfalse[\s-]{1,4}(?:alarm|positive)s?\b
    | \bno\s{1,4}(?:further\s{1,4})?action\s{1,4}(?:is\s{1,4})?(?:needed|required|necessary)\b
    | \b(?:safe|ok|okay)\s{1,4}to\s{1,4}ignore\b
    | \bcan\s{1,4}(?:safely\s{1,4})?be\s{1,4}(?:safely\s{1,4})?(?:ignored|dismissed)\b
    | \ball[\s-]{1,4}clear\b
    | \bback\s{1,4}to\s{1,4}normal\b
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)

#: Words before a claim, in its clause, that make it no claim: a condition, a negation, or
#: an instruction to find out.
_NOT_CLAIMED = re.compile(
    r"\b(?:until|once|when|whenever|if|after|unless|whether|before|not|never|yet|confirm"
    r"|verify|check|ensure|sure|see|wait|monitor|watch|expect|should)\b|n't\b",
    re.IGNORECASE,
)
#: Where a clause ends; a claim's clause is looked back through for `_NOT_CLAIMED`, at most
#: this far.
#: A clause, not a sentence: "This is not a drill, the incident is resolved" claims it.
_CLAUSE_END = re.compile(r"[.!?;:,\u2014](?=\s)|\n")
_LOOK_BACK = 100


def check(text: str, shown: Evidence, *, firing: bool) -> Checked:
    """`text` with every mention `shown` does not hold and, for a `firing` alert, every claim
    that it is over replaced by MARK; the kind of each (`mention`, `claim`), never the text."""
    text, mentions = _marked_mentions(text, shown)
    text, said = _marked_claims(text) if firing else (text, 0)
    return Checked(text, ("mention",) * mentions + ("claim",) * said)


def _marked_mentions(text: str, shown: Evidence) -> tuple[str, int]:
    # Folded one character for one: a fullwidth at sign is found where it stands in `text`.
    looked = folded(text)
    if "@" not in looked and "<!" not in looked:
        return text, 0  # most text: no mention can start in it
    held = _mentions_in(shown.text)
    out: list[str] = []
    end = marked = 0
    for match in _MENTION.finditer(looked):
        if match.group().lower() in held or _in_code(looked, match.start()):
            continue
        out += (text[end : match.start()], MARK)
        end = match.end()
        marked += 1
    return "".join([*out, text[end:]]), marked


#: A package manager's command, up to the place looked at: its arguments name packages, and an
#: npm scope among them (`@types/node`) is no mention. A `;`, `&`, `|`, a backtick or a line
#: break ends the command.
_PACKAGE_COMMAND = re.compile(
    r"(?<![\w.-])(?:npm|pnpm|yarn|bun|npx|pnpx|bunx|deno)(?:\s+[^\s;&|`]{1,200}){0,16}\s+\Z",
    re.IGNORECASE,
)
#: Words one of `_PACKAGE_COMMAND`'s programs holds (pnpm holds npm, bunx bun).
_PACKAGE_MANAGERS = ("npm", "npx", "yarn", "bun", "deno")
#: A package specifier's registry right before its scope: Deno's `npm:@types/node`,
#: `jsr:@std/path`.
_REGISTRY_PREFIXES = ("npm:", "jsr:")
#: How far back on its line a mention's command or opening backtick is looked for.
_CODE_LOOK_BACK = 300


def _in_code(text: str, at: int) -> bool:
    """Whether the `@` at `at` stands in code: inside backticks closed on its line (or a fenced
    block), or among a package manager's arguments."""
    if text[at] != "@":
        return False  # Slack's <!here>, <@U…>: calls wherever they stand
    line_start = max(text.rfind("\n", 0, at) + 1, at - _CODE_LOOK_BACK)
    before = text[line_start:at]
    if text.count("```", 0, at) % 2 == 1:
        return True
    line_end = text.find("\n", at)
    if before.count("`") % 2 == 1 and "`" in text[at : None if line_end < 0 else line_end]:
        return True
    lowered = before.lower()
    if lowered.endswith(_REGISTRY_PREFIXES):
        return True
    if not any(name in lowered for name in _PACKAGE_MANAGERS):
        return False  # most text: no package manager before it
    return _PACKAGE_COMMAND.search(before) is not None


@lru_cache(maxsize=16)
def _mentions_in(evidence: str) -> frozenset[str]:
    """The mentions the alert the model saw holds (its evidence is lower-cased already)."""
    return frozenset(match.group().lower() for match in _MENTION.finditer(evidence))


def _marked_claims(text: str) -> tuple[str, int]:
    lowered = text.lower()
    if not any(word in lowered for word in _CLAIM_WORDS):
        return text, 0  # most text: one quick look, not a pass of every pattern
    out: list[str] = []
    end = marked = 0
    for clause in _clauses(text):
        for match in _CLAIM.finditer(text, clause.start, clause.stop):
            # The clause's own words before the claim: a condition, a negation, a check.
            if _NOT_CLAIMED.search(
                text, max(match.start() - _LOOK_BACK, clause.start), match.start()
            ):
                continue
            out += (text[end : match.start()], MARK)
            end = match.end()
            marked += 1
    return "".join([*out, text[end:]]), marked


#: A word every claim holds (`_CLAIM`): text without any of them holds no claim.
_CLAIM_WORDS = frozenset(
    {"resolved", "recovered", "mitigated", "remediated", "fixed", "false", "action", "ignore"}
    | {"dismissed", "clear", "normal"}
)


def _clauses(text: str) -> Iterator[slice]:
    """The spans of `text`'s clauses, each up to and including the mark that ends it."""
    start = 0
    for end in _CLAUSE_END.finditer(text):
        yield slice(start, end.end())
        start = end.end()
    yield slice(start, len(text))
