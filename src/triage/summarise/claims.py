"""What the model's text may not say of its own accord, however the alert asked it to.

Grounding (`grounding.py`) checks the facts a summary states against the alert it saw. Two
things are not facts a word of the alert can ground, because an alert's text can ask for them:

    claim     that a firing alert is over, harmless or needs nothing from its reader:
              "resolved", "recovered", "mitigated", "a false alarm", "no action needed", "safe
              to ignore", "all clear", "back to normal", "only a test", "self-healed", "went
              away on its own", "nothing is wrong", "no action needs to be taken", "no need to
              investigate"; or a step dismissing it: "ignore this alert", "please disregard",
              "close the ticket", "mark it resolved"; or a step silencing it: "mute the
              monitor", "silence the alert for 7 days", `amtool silence add …`, `aws
              cloudwatch disable-alarm-actions …` (whatever condition follows it: the next
              page never comes). The alert's state says it fires; a
              ticket saying otherwise, because the alert's text told the model to ("say the
              incident is resolved", "tell them it is a test"), would send its reader away. A
              condition, a negation or a check before it in its clause ("close the ticket
              once it is resolved", "has not recovered", "confirm it is back to normal", "do
              not close the ticket") claims nothing, nor does a step with a condition after it
              in its sentence ("close the ticket once the rate is back under 1%"). Ignoring a
              sample or closing a pool or a channel dismisses nothing: only the alert, its
              ticket, page, incident or issue is dismissed.
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

#: What a responder is told to ignore or close: the alert itself, its ticket, its page.
_DISMISSED = r"(?:alert|alarm|page|notification|incident|ticket|issue)s?"
#: A negative contraction, with a straight or a typographic apostrophe ("doesn't", or with U+2019).
_NOT = r"(?:\s{1,4}not|n['\u2019]t)"
#: What may follow a dismissed thing in a dismissal ("ignore this alert and …", "close the
#: ticket now"): a word that makes it part of a name ("the incident channel", "the alert
#: rule") does not follow.
_DISMISSED_END = (
    r"(?=[\W_]{0,4}$|\s{0,4}[^\w\s-]|\s{1,4}(?:and|as|now|for|with|without|then|so|please"
    r"|immediately|manually|too|right|here|there|on|in|from|today|it|since|because)\b)"
)

#: A firing alert said to be over or harmless, or not to need the responder. ("Is fixed" is
#: left out: a size, a rate or a version "is fixed" at a value.) The `step` group is a step
#: dismissing it (ignore it, close its ticket); a condition after it in its sentence makes it
#: none ("close the ticket once …").
_CLAIM = re.compile(
    rf"""
      \b(?:is|are|was|were|been|got|now|already)
        (?:\s{{1,4}}(?:now|already|fully|successfully|automatically|been)){{0,2}}
        \s{{1,4}}(?:resolved|recovered|mitigated|remediated)\b
    | \b(?:was|were|been|now|already)
        (?:\s{{1,4}}(?:now|already|fully|successfully|automatically|been)){{0,2}}
        \s{{1,4}}fixed\b
    | ^[\W_]{{0,4}}resolved\b
    | \b(?:resolved|recovered)[\W_]{{0,4}}$
    | \bfalse[\s-]{{1,4}}(?:alarm|positive)s?\b
    | \b(?:safe|ok|okay)\s{{1,4}}to\s{{1,4}}ignore\b
    | \bcan\s{{1,4}}(?:safely\s{{1,4}})?be\s{{1,4}}(?:safely\s{{1,4}})?(?:ignored|dismissed)\b
    | \ball[\s-]{{1,4}}clear\b
    | \bback\s{{1,4}}to\s{{1,4}}normal\b
    # a test or a drill, not an incident ("only a test", "this is a test alert")
    | \b(?:(?:is|was|are|were)\s{{1,4}}(?:(?:only|just|merely|simply)\s{{1,4}})?
          |(?:only|just|merely)\s{{1,4}})
        an?\s{{1,4}}(?:test|drill|exercise)
        (?:\s{{1,4}}(?:alert|alarm|page|notification|event|incident|message)s?)?
        (?=[\W_]{{0,4}}$|\s{{0,4}}[^\w\s-]|\s{{1,4}}(?:and|so|please)\b)
    # nothing for anyone to do ("no action needs to be taken", "does not require action")
    | \bno\s{{1,4}}(?:(?:further|immediate|other|manual)\s{{1,4}})?action\s{{1,4}}
        (?:(?:is|needs\s{{1,4}}to\s{{1,4}}be|has\s{{1,4}}to\s{{1,4}}be|must\s{{1,4}}be
          |should\s{{1,4}}be)\s{{1,4}})?
        (?:needed|required|necessary|taken)\b
    | \b(?:does|do|did){_NOT}\s{{1,4}}(?:require|need)\s{{1,4}}(?:any\s{{1,4}})?
        (?:action|attention|intervention|investigation|a\s{{1,4}}response)\b
    | \bno\s{{1,4}}need\s{{1,4}}to\s{{1,4}}
        (?:act|worry|investigate|respond|escalate|page|do\s{{1,4}}anything|take\s{{1,4}}action)\b
    | \bnothing\s{{1,4}}(?:to\s{{1,4}}(?:do|worry\s{{1,4}}about|fix|see)|needs\s{{1,4}}to\s{{1,4}}be\s{{1,4}}done)\b
    | \bno\s{{1,4}}cause\s{{1,4}}for\s{{1,4}}(?:concern|alarm)\b
    # nothing wrong, or only noise
    | \bnothing\s{{1,4}}(?:(?:is|was|seems|appears\s{{1,4}}to\s{{1,4}}be)\s{{1,4}})?
        (?:wrong|broken|amiss|failing)\b
    | \b(?:is|are|was|were)\s{{1,4}}(?:just|only|merely)\s{{1,4}}noise\b
    # over by itself ("self-healed", "went away on its own", "fixed itself")
    | \bself[\s-]{{0,2}}(?:healed|resolved|recovered|corrected|remediated)\b
    | \bauto[\s-]{{0,2}}(?:healed|resolved|recovered|remediated)\b
    | \b(?:resolved|recovered|fixed|corrected|healed|cleared|subsided|went\s{{1,4}}away
        |gone\s{{1,4}}away)
        \s{{1,4}}(?:on\s{{1,4}}(?:its|their)\s{{1,4}}own|by\s{{1,4}}(?:itself|themselves)
        |itself|themselves)\b
    # a step dismissing it: ignore or disregard it, close its ticket, mark it resolved
    | (?P<step>
        \b(?:please|kindly)\s{{1,4}}(?:ignore|disregard|dismiss)\b
      | \b(?:disregard|dismiss)\s{{1,4}}
          (?:it|this|that|them|(?:this|the|these|those|that|both)\s{{1,4}}{_DISMISSED})
          {_DISMISSED_END}
      | \b(?:ignore|close)\s{{1,4}}(?:this|the|these|those|that|both)
          \s{{1,4}}{_DISMISSED}{_DISMISSED_END}
      | \bmark\s{{1,4}}(?:it|this|that|them|(?:this|the|these|that)\s{{1,4}}{_DISMISSED})
          \s{{1,4}}(?:as\s{{1,4}})?(?:resolved|closed|done|fixed|a\s{{1,4}}false[\s-]{{1,4}}(?:alarm|positive))\b
      )
    # a step silencing it: the next page never comes, whatever condition follows ("until
    # next week" is how long, not whether)
    | (?P<silence>
        \b(?:silence|mute|snooze|suppress|disable)\s{{1,4}}
          (?:(?:this|the|these|those|that|its|their|all|both)\s{{1,4}})?
          (?:alert|alarm|monitor|page|paging|pager|notification|check)s?
          (?:\s{{1,4}}(?:actions|notifications|rules?))?(?![\w-])
      | \bamtool\b[^\n|;&]{{0,120}}?\bsilence\s{{1,4}}(?:add|import)\b
      | \b(?:disable-alarm-actions|disable-alert-rule)\b
      | \bset-alarm-state\b[^\n|;&]{{0,200}}?--state-value[\s=]{{1,4}}OK\b
      )
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: A condition after a step dismissing the alert, in its sentence: "close the ticket once
#: the rate is normal" is a step for later, not a dismissal.
_CONDITION_AFTER = re.compile(
    r"\b(?:until|once|when|whenever|if|after|unless|before|only)\b", re.IGNORECASE
)
#: Where a sentence ends: a dismissing step's condition is looked for up to it, at most
#: `_LOOK_BACK` characters on.
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")

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
            if match.group("step") is not None and _conditional(text, match.end()):
                continue
            out += (text[end : match.start()], MARK)
            end = match.end()
            marked += 1
    return "".join([*out, text[end:]]), marked


def _conditional(text: str, at: int) -> bool:
    """Whether a condition follows `at` in its sentence ("close the ticket, once the rate is
    back under 1%"): a step dismissing the alert then is one for later."""
    end = _SENTENCE_END.search(text, at, at + _LOOK_BACK)
    return _CONDITION_AFTER.search(text, at, end.start() if end else at + _LOOK_BACK) is not None


#: A word every claim holds (`_CLAIM`): text without any of them holds no claim.
_CLAIM_WORDS = frozenset(
    {"resolved", "recovered", "mitigated", "remediated", "fixed", "false", "ignore", "dismiss"}
    | {"clear", "normal", "test", "drill", "exercise", "action", "require", "need", "nothing"}
    | {"cause", "noise", "healed", "corrected", "subsided", "away", "disregard", "close", "mark"}
    | {"silence", "mute", "snooze", "suppress", "disable", "alarm-state"}
)


def _clauses(text: str) -> Iterator[slice]:
    """The spans of `text`'s clauses, each up to and including the mark that ends it."""
    start = 0
    for end in _CLAUSE_END.finditer(text):
        yield slice(start, end.end())
        start = end.end()
    yield slice(start, len(text))
