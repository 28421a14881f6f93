"""What the model's text may not say of its own accord, however the alert asked it to.

Grounding (`grounding.py`) checks the facts a summary states against the alert it saw. Two
things are not facts a word of the alert can ground, because an alert's text can ask for them:

    claim     that a firing alert is over, harmless or needs nothing from its reader:
              "resolved", "recovered", "mitigated", "a false alarm", "no action needed", "safe
              to ignore", "all clear", "back to normal", "only a test", "self-healed", "went
              away on its own", "nothing is wrong", "no action needs to be taken", "no need to
              investigate", "the incident is closed", "already being handled", "harmless",
              "benign", "this is expected", "healthy again", "returned to baseline", "safe
              to disregard", "just noise", "everything is fine", "all systems operational",
              "a non-issue", "don't worry", "the problem went away"; its state said to be OK
              ("State: OK", "went from ALARM to OK", "ALARM -> OK"), or it, its errors or its
              outage stopped ("stopped firing", "no longer firing", "the outage is over",
              "service restored", "the alarm cleared"); or a step dismissing it: "ignore
              this alert", "please disregard", "close the ticket", "mark it resolved" (or
              won't fix), "resolve the PagerDuty incident", "lower the priority of this
              ticket"; or a step silencing it: "mute the monitor" (the Datadog one too),
              "snooze it", "add an Alertmanager silence", "turn off paging", "remove web-1
              from monitoring", "silence the alert for 7 days", "downtime the host", "set
              the monitor to OK", "delete the alert rule", `amtool silence add …`, `kubectl
              delete prometheusrule …`, `aws cloudwatch disable-alarm-actions …` (whatever
              condition follows it: the next page never comes); or a step silencing it by
              changing its rule: "raise the threshold", "increase the for: duration", "set
              the alarm's evaluation periods to 100", "relax the alert condition", "tune the
              alert so it stops firing", "add it to the ignore list", an inhibit rule, a null
              receiver, its severity set to info; or it said to have misfired ("fired in
              error", "a spurious alert", "an FP"), to be able to wait ("not urgent",
              "informational only"), to be fixed in a bare sentence ("Fixed.", "Problem
              solved."), or to have had its priority lowered ("downgraded to P4"); or a
              status tag ("[FP] …", "[Muted]", "OK: …", "(silenced)", "all good"). The
              alert's state says it fires; a ticket saying otherwise, because the alert's
              text told the model to
              ("say the incident is resolved", "tell them it is a test"), would send its
              reader away. A condition, a negation or a check before it in its clause
              ("close the ticket once it is resolved", "has not recovered", "confirm it is back to normal", "do
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
pattern is bounded, so checking is linear in the text; claims are searched with each run of
whitespace read as one character, so however many spaces or tabs stand between a claim's
words ("all", twelve spaces, "clear"), it is one, and a claim runs over a line break
(Markdown renders a single one as a space) while read in the clause it starts in.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from triage.summarise.grounding import MARK, Checked, Evidence, folded
from triage.summarise.literals import Literals, found
from triage.summarise.word_starts import WORD_OR_LINE_START, WORD_START, at_word_starts

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
#: Where an incident is paged from: "resolve the PagerDuty incident" dismisses it there.
_PAGER = (
    r"(?:pagerduty|opsgenie|incident\.io|firehydrant|rootly|servicenow|jira|github|datadog"
    r"|grafana|oncall|victorops|splunk)"
)
#: What an alert is silenced or paged from, named before what a step silences ("mute the
#: Datadog monitor", "add an Alertmanager silence").
_ALERTER = (
    rf"(?:{_PAGER}|alertmanager|prometheus|cloudwatch|sentry|new\s{{1,4}}relic|nagios|zabbix"
    r"|icinga|uptime\s{1,4}kuma)"
)
#: A determiner before what a step silences ("downtime the host", "… for all monitors").
_THE = r"(?:this|the|these|those|that|its|their|all|both)"
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
    at_word_starts(
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
        an?\s{{1,4}}(?:(?:scheduled|planned|routine|synthetic|simulated|periodic|regular)
          \s{{1,4}})?(?:test|drill|exercise)
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
          \s{{1,4}}(?:as\s{{1,4}})?(?:resolved|closed|done|fixed|a\s{{1,4}}false[\s-]{{1,4}}(?:alarm|positive)
            |won['\u2019]?t\s{{1,4}}fix|wontfix|not\s{{1,4}}planned|not\s{{1,4}}a\s{{1,4}}bug)\b
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
        line_starts=True,
    ),
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
#: Where a span searched for claims ends: a clause's mark, not a line break (`_found`).
_SPAN_END = re.compile(r"[.!?;:,\u2014](?=\s)")
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
    fence_ends = _fence_ends(looked)
    out: list[str] = []
    end = marked = 0
    for match in _MENTION.finditer(looked):
        if match.group().lower() in held or _in_code(looked, match.start(), fence_ends):
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
#: A backtick later on the line (before its line break).
_BACKTICK_ON_LINE = re.compile(r"[^`\n]*`")


def _fence_ends(text: str) -> list[int]:
    """Where each "```" of `text` ends, found left to right as `str.count` finds them: the
    fences before a place are counted by a bisection, not by reading the text from its start
    again for each mention (an answer of thousands of mentions)."""
    ends: list[int] = []
    at = text.find("```")
    while at >= 0:
        ends.append(at + 3)
        at = text.find("```", at + 3)
    return ends


def _in_code(text: str, at: int, fence_ends: list[int]) -> bool:
    """Whether the `@` at `at` stands in code: inside backticks closed on its line (or a fenced
    block, `fence_ends` being `_fence_ends(text)`), or among a package manager's arguments.
    The line is read back `_CODE_LOOK_BACK` characters at most, and on past the mention only
    when a backtick before it is open, so a long line of mentions is not read once each."""
    if text[at] != "@":
        return False  # Slack's <!here>, <@U…>: calls wherever they stand
    line_start = max(text.rfind("\n", max(0, at - _CODE_LOOK_BACK), at) + 1, at - _CODE_LOOK_BACK)
    before = text[line_start:at]
    if bisect.bisect_right(fence_ends, at) % 2 == 1:
        return True
    if before.count("`") % 2 == 1 and _BACKTICK_ON_LINE.match(text, at) is not None:
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


@dataclass(frozen=True, slots=True)
class _Language:
    """How claims are read in some languages: the claims (`step`: a step dismissing the alert,
    which a condition after it makes one for later), the words before one in its clause that
    make it none, the words of a condition after a step, and a word every claim holds."""

    claims: re.Pattern[str]
    not_claimed: re.Pattern[str]
    condition_after: re.Pattern[str]
    words: frozenset[str]
    #: What every claim also holds, when there is such a thing: searched for in the lower-cased
    #: text once its words are found (a state as a word: "ok", not the "ok" of "token").
    also: re.Pattern[str] | None = None
    #: Searched in the whole text, not clause by clause: its claims may hold a clause's mark.
    whole: bool = False
    #: `words` are whole words (runs of letters), found among the text's own at the cost of
    #: one set's test however many they are, rather than each searched for in the text.
    by_word: bool = False
    #: What each alternative of `claims` holds, as whole words of ASCII text: one tuple per
    #: alternative, of sets of which it holds a word each. A claim's alternative is searched
    #: for only in ASCII text where one alternative's every set has a word among the text's
    #: (`_may_claim`); empty, `words` alone gates the search.
    requires: tuple[tuple[frozenset[str], ...], ...] = ()
    #: Every word of `requires`: a text's other words decide nothing (`_feasible`).
    required: frozenset[str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        words = frozenset(w for sets in self.requires for s in sets for w in s)
        object.__setattr__(self, "required", words)

    @property
    def steps(self) -> bool:
        """Whether `claims` has dismissing steps (a `step` group) to read a condition after."""
        return "step" in self.claims.groupindex


#: A word of a text, as `_Language.by_word` words are compared with it.
_LETTERS = re.compile(r"[a-z]+")


def _marked_claims(text: str) -> tuple[str, int]:
    # Gated on the text with each run of whitespace read as one space, as the claims read it
    # (`_Spaced`): a tab or a run of spaces in "on its own" passes the " own" gate.
    lowered = " ".join(text.lower().split())
    letters = frozenset(_LETTERS.findall(lowered))
    # Every language's words looked for in one pass (`literals`), not one search each.
    held = found(lowered)
    marked = 0
    original = text
    for language in _LANGUAGES:
        words = letters if language.by_word else held
        if not words.isdisjoint(language.words) and (
            language.also is None or language.also.search(lowered) is not None
        ):
            feasible = _feasible(language, text, letters if text is original else None)
            if feasible is None:
                text, count = _marked_in(text, language)
            elif feasible:
                text, count = _marked_in(text, _narrowed(language, feasible))
            else:
                continue
            marked += count
    return text, marked


def _feasible(
    language: _Language, text: str, letters: frozenset[str] | None
) -> tuple[int, ...] | None:
    """The alternatives of `language`'s claims (their indexes) for which `text` (ASCII) holds
    every word they need (`_Language.requires`), read among its words (`letters`: those of the
    lower-cased text, when it is the text they were read from); None when no gate applies.
    ASCII text only: in other text a case-blind search matches a letter `lower()` keeps apart
    (the long s as an `s`, the Kelvin sign as a `k`). Every word of `requires` stands between
    two non-letters in each match, so a match holds it as one of the text's words."""
    if not language.requires or not text.isascii():
        return None
    if letters is None:
        letters = frozenset(_LETTERS.findall(text.lower()))
    # Only the text's words that `requires` names decide, and texts share a few of them (the
    # common "is", "a", "to", "not"): the answer for those few is remembered.
    present = letters & language.required
    key = (id(language), present)
    held = _FEASIBLE.get(key)
    if held is None or held[0] is not language:
        if len(_FEASIBLE) >= _FEASIBLE_MOST:
            _FEASIBLE.clear()
        feasible = tuple(
            index
            for index, sets in enumerate(language.requires)
            if all(not present.isdisjoint(s) for s in sets)
        )
        held = _FEASIBLE[key] = (language, feasible)
    return held[1]


#: `_feasible`'s answers, by the language's identity and the text's words it names.
_FEASIBLE: dict[tuple[int, frozenset[str]], tuple[_Language, tuple[int, ...]]] = {}
_FEASIBLE_MOST = 4096


def _may_claim(language: _Language, text: str, letters: frozenset[str] | None) -> bool:
    """Whether some alternative of `language`'s claims may match in `text` (`_feasible`)."""
    feasible = _feasible(language, text, letters)
    return feasible is None or bool(feasible)


#: `_narrowed`'s languages, by the language's identity and the alternatives kept (a compiled
#: pattern's hash reads its whole program: a `functools` cache would cost more than a search).
_NARROWED: dict[tuple[int, tuple[int, ...]], tuple[_Language, _Language]] = {}
_NARROWED_MOST = 1024


def _narrowed(language: _Language, feasible: tuple[int, ...]) -> _Language:
    """`language` searching only the alternatives `feasible` of its claims: the others need a
    word the text does not hold, so they match nowhere in it, and the leftmost match of the
    rest is the whole pattern's. Python's `re` tries each alternative at each place, so a
    text holding one alternative's words (a bare "fixed") is searched for that one alone."""
    key = (id(language), feasible)
    held = _NARROWED.get(key)
    if held is None or held[0] is not language:
        if len(_NARROWED) >= _NARROWED_MOST:
            _NARROWED.clear()
        held = _NARROWED[key] = (language, _narrowing(language, feasible))
    return held[1]


def _narrowing(language: _Language, feasible: tuple[int, ...]) -> _Language:
    if len(feasible) == len(language.requires):
        return language
    prefix, alternatives, suffix = _alternatives(language.claims.pattern)
    source = "\n|".join(alternatives[index] for index in feasible)
    claims = re.compile(f"{prefix}{source}\n{suffix}", language.claims.flags)
    return dataclasses.replace(language, claims=claims)


def _alternatives(source: str) -> tuple[str, tuple[str, ...], str]:
    """A verbose pattern's source split into its top-level alternatives, and what stands
    around them: the word-start lookahead (`word_starts.at_word_starts`) and its close."""
    prefix = suffix = ""
    for start in (WORD_START, WORD_OR_LINE_START):
        if source.startswith(start) and source.endswith(")"):
            prefix, source, suffix = start, source[len(start) : -1], ")"
    alternatives: list[str] = []
    depth = begun = 0
    at = 0
    while at < len(source):
        char = source[at]
        if char == "\\":
            at += 1
        elif char == "[":
            at = _class_end(source, at)
        elif char == "#":
            at = source.find("\n", at)
            at = len(source) if at < 0 else at
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            alternatives.append(source[begun:at])
            begun = at + 1
        at += 1
    alternatives.append(source[begun:])
    return prefix, tuple(alternatives), suffix


def _class_end(source: str, at: int) -> int:
    """Where the character class opening at `at` closes: a `]` first in it (after a `^`) or
    escaped is one of its characters."""
    at += 2 if source.startswith("[^", at) else 1
    at += 1  # its first character, whatever it is
    if source[at - 1] == "\\":
        at += 1
    while source[at] != "]":
        at += 2 if source[at] == "\\" else 1
    return at


def _marked_in(text: str, language: _Language) -> tuple[str, int]:
    # Searched with each whitespace run read as one character, so "all", six spaces and
    # "clear" is the claim "all clear" however long the run; each claim found is marked where
    # it stands in `text`, whose own whitespace around it is kept.
    spaced = _Spaced.of(text)
    looked = spaced.text
    out: list[str] = []
    end = marked = 0
    for match in _found(looked, language):
        start = spaced.original(match.start())
        out += (text[end:start], MARK)
        end = spaced.original(match.end())
        marked += 1
    return "".join([*out, text[end:]]), marked


#: Two or more whitespace characters in a row: read as one by the claims' searches.
_WHITESPACE_RUN = re.compile(r"\s{2,}")


@dataclass(frozen=True, slots=True)
class _Spaced:
    """A text with each run of whitespace read as one character (a line break if the run holds
    one, so clauses and lines still end there, else a space): the claims' patterns allow a
    bounded run between words (`\\s{1,4}`), which keeps them linear, and a longer run then
    hides no claim. `original` maps a place in `text` back to the text it was made from."""

    text: str
    #: Where each run's one character stands in `text`, and the run's span in the original.
    at: tuple[int, ...] = ()
    run_starts: tuple[int, ...] = ()
    run_ends: tuple[int, ...] = ()

    @classmethod
    def of(cls, original: str) -> _Spaced:
        """`original` with its whitespace runs read as one character each."""
        parts: list[str] = []
        at: list[int] = []
        run_starts: list[int] = []
        run_ends: list[int] = []
        copied = removed = 0
        for run in _WHITESPACE_RUN.finditer(original):
            parts += (original[copied : run.start()], "\n" if "\n" in run.group() else " ")
            at.append(run.start() - removed)
            run_starts.append(run.start())
            run_ends.append(run.end())
            removed += len(run.group()) - 1
            copied = run.end()
        if not at:
            return cls(original)  # most short text: no run to read as one
        parts.append(original[copied:])
        return cls("".join(parts), tuple(at), tuple(run_starts), tuple(run_ends))

    def original(self, place: int) -> int:
        """Where `place` in `text` (a match's start or end) stands in the original: a run's
        one character stands for the whole run."""
        run = bisect.bisect_right(self.at, place) - 1
        if run < 0:
            return place
        if place == self.at[run]:
            return self.run_starts[run]
        return self.run_ends[run] + place - self.at[run] - 1


def _found(text: str, language: _Language) -> Iterator[re.Match[str]]:
    """Each claim of `language` in `text` that its clause does not make none (`_claimed`).

    Searched span by span, a span ending at a clause's mark but not at a line break: a single
    line break is a soft wrap that Markdown renders as a space, and "Wait for it to clear" then
    "on its own" on the next line dismisses the alert as one line does. A language whose
    claims may hold a clause's mark ("State: OK") is searched in the whole text. Each claim is
    read in the clause (ended by a line break too) it starts in, so a negation or a check on
    an earlier line makes none of it; one made none that runs over a line break is searched
    again from that line, so it hides no claim starting there."""
    starts = [clause.start for clause in _clauses(text)]
    spans = [slice(0, len(text))] if language.whole else _clauses(text, _SPAN_END)
    for span in spans:
        at = span.start
        while (match := language.claims.search(text, at, span.stop)) is not None:
            clause_start = starts[bisect.bisect_right(starts, match.start()) - 1]
            if _claimed(text, match, clause_start, language):
                yield match
                at = max(match.end(), match.start() + 1)
                continue
            line_break = text.find("\n", match.start(), match.end())
            at = line_break + 1 if line_break >= 0 else max(match.end(), match.start() + 1)


def _claimed(text: str, match: re.Match[str], clause_start: int, language: _Language) -> bool:
    """Whether `match` claims something: no condition, negation or check before it in its
    clause, and, for a dismissing step, no condition after it in its sentence."""
    if language.not_claimed.search(
        text, max(match.start() - _LOOK_BACK, clause_start), match.start()
    ):
        return False
    return not (
        language.steps
        and match.group("step") is not None
        and _conditional(text, match.end(), language.condition_after)
    )


def _conditional(text: str, at: int, condition_after: re.Pattern[str]) -> bool:
    """Whether a condition follows `at` in its sentence ("close the ticket, once the rate is
    back under 1%"): a step dismissing the alert then is one for later."""
    end = _SENTENCE_END.search(text, at, at + _LOOK_BACK)
    return condition_after.search(text, at, end.start() if end else at + _LOOK_BACK) is not None


#: A word every claim holds (`_CLAIM`): text without any of them holds no claim.
_CLAIM_WORDS = frozenset(
    {"resolved", "recovered", "mitigated", "remediated", "fixed", "false", "ignore", "dismiss"}
    | {"clear", "normal", "test", "drill", "exercise", "action", "require", "need", "nothing"}
    | {"cause", "noise", "healed", "corrected", "subsided", "away", "disregard", "close", "mark"}
    | {"silence", "mute", "snooze", "suppress", "disable", "alarm-state"}
)


#: The words each alternative of `_CLAIM` holds (`_Language.requires`), in its order: its
#: common words ("fixed", "test", "clear", "action") open a search only beside their others.
_CLAIM_REQUIRES: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(words.split()) for words in sets)
    for sets in (
        (
            "is are was were been got now already",
            "resolved recovered mitigated remediated",
        ),
        ("was were been now already", "fixed"),
        ("resolved",),
        ("resolved recovered",),
        ("false", "alarm alarms positive positives"),
        ("safe ok okay", "to", "ignore"),
        ("can", "be", "ignored dismissed"),
        ("all", "clear"),
        ("back", "to", "normal"),
        ("is was are were only just merely", "a an", "test drill exercise"),
        ("no", "action", "needed required necessary taken"),
        (
            "does do did doesn don didn",
            "require need",
            "action attention intervention investigation response",
        ),
        ("no", "need", "to", "act worry investigate respond escalate page do take"),
        ("nothing", "to needs", "do worry fix see done"),
        ("no", "cause", "for", "concern alarm"),
        ("nothing", "wrong broken amiss failing"),
        ("is are was were", "just only merely", "noise"),
        # "self-healed" or "selfhealed": one word or two
        ("self selfhealed selfresolved selfrecovered selfcorrected selfremediated",),
        ("auto autohealed autoresolved autorecovered autoremediated",),
        (
            "resolved recovered fixed corrected healed cleared subsided away",
            "own itself themselves",
        ),
        ("ignore disregard dismiss close mark",),
        ("silence mute snooze suppress disable state",),
    )
)

#: A step lowering the alert's priority ("lower the priority of this ticket", "downgrade the
#: incident's severity"): the ticket says less than the alert, as alert text can ask. Searched
#: apart from `_CLAIM`, in text holding a priority's name (many tickets) and a lowering verb
#: (few), so the name alone opens no search of `_CLAIM`. A condition after it makes it a step
#: for later ("lower the priority once the rate is normal").
_LOWERED = re.compile(
    rf"""
    (?P<step>\b(?:lower|downgrade|reduce|decrease)\s{{1,4}}(?:(?:this|the|its|their)\s{{1,4}})?
      (?:{_DISMISSED}(?:['\u2019]s)?\s{{1,4}})?(?:priority|severity|urgency)\b)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_LOWERED_WORDS = frozenset({"priority", "severity", "urgency"})
_LOWERING = re.compile(r"lower|downgrade|reduce|decrease")

#: Claims in rarer words still, searched apart (`_RARE_CLAIM_WORDS`) so the common ones'
#: searches stay as short: nothing needed ("no response is needed", "no one needs to
#: respond"), working as intended, under control or already taken, affecting no customer, its
#: fix deployed, closed ("incident closed."); a step that is only "ignore" ("Ignore.", "skip
#: this one"), closes it out or as a duplicate, or resolves it where it pages from; a step
#: silencing it: a maintenance window, the monitor deleted, notifications unsubscribed from,
#: the responder sent back to sleep, or a command muting it (Datadog's `dog monitor mute`, a
#: POST to Alertmanager's silences API, an alert policy disabled with gcloud or az: these
#: are `_SILENCING`'s).
_RARE_CLAIM = re.compile(
    at_word_starts(
        rf"""
      \b(?:safe|ok|okay)\s{{1,4}}to\s{{1,4}}(?:disregard|dismiss)\b
    | \b(?:this|it|that)(?:\s{{1,4}}(?:is|was)|['\u2019]s)\s{{1,4}}
        (?:(?:just|only|merely|simply|probably|likely|mostly)\s{{1,4}}){{0,2}}noise\b
    # gone, the problem or its errors ("the problem went away", "the errors have gone away")
    | \b(?:problem|issue|errors?|alerts?|alarms?|incident|spike|outage)\s{{1,4}}
        (?:went|(?:has|have|is|are)\s{{1,4}}(?:now\s{{1,4}})?gone)\s{{1,4}}away
        (?:\s{{1,4}}(?:on\s{{1,4}}(?:its|their)\s{{1,4}}own|by\s{{1,4}}(?:itself|themselves)))?\b
    # fine, a non-issue, nothing to worry about ("everything is fine", "all systems
    # operational", "a non-issue", "non-actionable", "don't worry about it")
    | \beverything\s{{1,4}}(?:is|looks|seems)\s{{1,4}}(?:(?:now|totally|perfectly)\s{{1,4}})?
        (?:fine|ok|okay|good|well|healthy)\b
    | \ball\s{{1,4}}systems\s{{1,4}}(?:are\s{{1,4}})?(?:operational|normal|go|green)\b
    | \bnon[\s-]{{0,2}}(?:issue|event|actionable)\b|\bnot\s{{1,4}}actionable\b
    | \b(?:do\s{{1,4}}not|don['\u2019]t)\s{{1,4}}(?:need\s{{1,4}}to\s{{1,4}})?worry\b
    | \bno\s{{1,4}}(?:(?:further|immediate|other|manual)\s{{1,4}})?
        (?:response|intervention|attention|investigation|escalation)\s{{1,4}}
        (?:(?:is|needs\s{{1,4}}to\s{{1,4}}be|has\s{{1,4}}to\s{{1,4}}be|must\s{{1,4}}be
          |should\s{{1,4}}be)\s{{1,4}})?
        (?:needed|required|necessary)\b
    | \bnothing\s{{1,4}}needs\s{{1,4}}(?:doing|fixing)\b
    | \b(?:no[\s-]{{1,4}}one|nobody)\s{{1,4}}(?:needs|has)\s{{1,4}}to\s{{1,4}}
        (?:respond|act|look|investigate|worry|wake\s{{1,4}}up|do\s{{1,4}}anything)\b
    # working as intended, under control, taken, affecting no one, fixed
    | \b(?:this|it|that|everything)\s{{1,4}}(?:is|was)\s{{1,4}}
        (?:working|behaving|functioning|operating)\s{{1,4}}as\s{{1,4}}(?:intended|designed|expected)\b
    | \b(?:this|it|that)\s{{1,4}}(?:is|was)\s{{1,4}}(?:(?:just|only|simply)\s{{1,4}})?by\s{{1,4}}design\b
    | \b(?:situation|it|this|everything|incident|outage|issue)\s{{1,4}}
        (?:is\s{{1,4}}(?:now\s{{1,4}})?)?under\s{{1,4}}control\b
    | \balready\s{{1,4}}(?:on\s{{1,4}}it|working\s{{1,4}}on\s{{1,4}}it|looking\s{{1,4}}into\s{{1,4}}it)\b
    | \b(?:customers?|users?|clients?)\s{{1,4}}(?:are|were|is|was)\s{{1,4}}(?:unaffected|unimpacted)\b
    | \b(?:customers?|clients?)\s{{1,4}}(?:are|were|is|was)\s{{1,4}}not\s{{1,4}}(?:affected|impacted)\b
    | \bno\s{{1,4}}(?:customer|client)[\s-]{{1,4}}(?:facing\s{{1,4}})?impact\b
    | \bno\s{{1,4}}impact\s{{1,4}}(?:on|to)\s{{1,4}}(?:customers|clients)\b
    | \b(?:fix|patch|hotfix|remediation)(?:es)?\s{{1,4}}(?:has|have)\s{{1,4}}(?:already\s{{1,4}})?been
        \s{{1,4}}(?:deployed|applied|rolled\s{{1,4}}out|shipped|released)\b
    | \b(?:root\s{{1,4}}cause|issue|problem|cause|bug)\s{{1,4}}(?:has|have)\s{{1,4}}(?:already\s{{1,4}})?
        been\s{{1,4}}(?:addressed|fixed|patched|corrected|handled)\b
    # closed ("incident closed.", "auto-closed", "closing this ticket")
    | \b{_DISMISSED}\s{{1,4}}(?:now\s{{1,4}})?closed(?=[\W_]{{0,4}}$|\s{{0,4}}[.!;])
    | \bauto[\s-]{{0,2}}closed\b
    | \bclosing\s{{1,4}}(?:this|the)\s{{1,4}}{_DISMISSED}\b
    # a step that is only "ignore", closes it out or as a duplicate, resolves it in a pager
    | (?P<step>
        ^[\W_]{{0,4}}(?:ignore|dismiss|disregard|skip)
          (?:\s{{1,4}}(?:it|this|that|them)(?:\s{{1,4}}one)?)?[\W_]{{0,4}}$
      | \b(?:ignore|dismiss|disregard|skip)\s{{1,4}}(?:it|this|that|them)(?:\s{{1,4}}one)?
          (?=[\W_]{{0,4}}$)
      | \bclose\s{{1,4}}(?:it|this|that|them)\s{{1,4}}out\b
      | \bclose\s{{1,4}}(?:(?:it|this|that|them)\s{{1,4}})?as\s{{1,4}}(?:an?\s{{1,4}})?
          (?:duplicate|dupe|resolved|fixed|done|noise|won['\u2019]?t\s{{1,4}}fix|wontfix
          |not\s{{1,4}}planned)\b
      | \bresolve\s{{1,4}}(?:it|this|them)\s{{1,4}}(?:in|on)\s{{1,4}}{_PAGER}\b
      )
    """,
        line_starts=True,
    ),
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: Steps silencing it in rarer words, searched apart from `_RARE_CLAIM` (`_SILENCING_WORDS`):
#: a long text naming alerting or a silence opens only this search, not both.
_SILENCING = re.compile(
    at_word_starts(
        rf"""
    # the monitor muted where it pages from ("mute the Datadog monitor"), "snooze it", a
    # silence added, paging turned off, the host out of monitoring
      \b(?:silence|mute|snooze|suppress|disable)\s{{1,4}}
        (?:(?:this|the|these|those|that|its|their|all|both)\s{{1,4}})?{_ALERTER}\s{{1,4}}
        (?:alert|alarm|monitor|page|paging|pager|notification|check)s?
        (?:\s{{1,4}}(?:actions|notifications|rules?))?(?![\w-])
    | \b(?:silence|mute|snooze)\s{{1,4}}(?:it|them)\b
    | \b(?:disable|pause|deactivate|stop)\s{{1,4}}(?:{_THE}\s{{1,4}})?(?:{_ALERTER}\s{{1,4}})?
        (?:alerting|paging|notifications|pager)(?![\w-])
    | \b(?:disable|pause|deactivate)\s{{1,4}}(?:{_THE}\s{{1,4}})?{_PAGER}\s{{1,4}}
        (?:service|integration|schedule|escalation\s{{1,4}}policy)\b
    # triage's own silence, added for what this alert matches
    | \btriage\s{{1,4}}silences?\s{{1,4}}(?:add|create)\b
    | \b(?:add|create|set\s{{1,4}}up|put\s{{1,4}}(?:in|up)|schedule)\s{{1,4}}
        (?:(?:an?|the)\s{{1,4}})?(?:{_ALERTER}\s{{1,4}})?silence\b
    | \b(?:turn|switch|shut)\s{{1,4}}off\s{{1,4}}(?:{_THE}\s{{1,4}})?(?:{_ALERTER}\s{{1,4}})?
        (?:alert|alerting|alarm|monitor|monitoring|paging|page|pager|notification)s?(?![\w-])
    | \b(?:remove|exclude|take)\s{{1,4}}\S{{1,64}}\s{{1,4}}(?:out\s{{1,4}}of|from)\s{{1,4}}
        (?:(?:the|all|its)\s{{1,4}})?(?:{_ALERTER}\s{{1,4}})?(?:monitoring|alerting|paging)\b
    | \b(?:set|schedule|create|add|open|start|enable)\s{{1,4}}(?:(?:an?|the)\s{{1,4}})?
        maintenance\s{{1,4}}(?:window|mode)\b
    | \b(?:put|place|set|move)\s{{1,4}}\S{{1,64}}\s{{1,4}}(?:in|into|under)\s{{1,4}}maintenance\b
    | \b(?:delete|remove)\s{{1,4}}(?:the|this|all|its|their)\s{{1,4}}(?:{_ALERTER}\s{{1,4}})?
        (?:alert|alarm|monitor)s?
        (?![\w'\u2019-])(?!\s{{1,4}}(?:tag|label|comment|annotation|note|dashboard|panel|field)s?\b)
    | \bunsubscribe\s{{1,4}}(?:(?:me|yourself|us|everyone)\s{{1,4}})?from\s{{1,4}}(?:{_THE}\s{{1,4}})?
        (?:{_ALERTER}\s{{1,4}})?(?:alert|alarm|page|notification|email)s?\b
    | \bgo\s{{1,4}}back\s{{1,4}}to\s{{1,4}}(?:sleep|bed)\b
    | \bdog(?:shell)?\s{{1,4}}monitor\s{{1,4}}(?:mute|mute_all)\b
    | \bcurl\b(?=[^\n|;&]{{0,240}}?(?:-X\s{{0,4}}POST|--request\s{{1,4}}POST|\s-d\b|\s--data))
        [^\n|;&]{{0,240}}?/api/v[12]/silences?\b
    | \b(?:gcloud|az)\b[^\n|;&]{{0,200}}?\b(?:monitoring|monitor|alerts?)\b[^\n|;&]{{0,200}}?
        (?:--no-enabled|--enabled[\s=]{{1,4}}false)\b
    """
    ),
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: A word one of which every claim of `_RARE_CLAIM` holds (`_Language.by_word`): most texts
#: hold none, and it is not searched.
_RARE_CLAIM_WORDS = frozenset(
    {"needed", "required", "necessary", "doing", "fixing", "nobody", "respond", "anything"}
    | {"investigate", "worry", "wake", "act", "look", "intended", "designed", "expected"}
    | {"design", "control", "already", "unaffected", "unimpacted", "customer", "customers"}
    | {"client", "clients", "been", "closed", "closing", "close", "ignore"}
    | {"dismiss", "disregard", "skip", "resolve", "noise", "away", "everything", "systems"}
    | {"non", "nonissue", "nonevent", "actionable"}
)
#: A word every claim of `_SILENCING` holds.
_SILENCING_WORDS = frozenset(
    {"silence", "silences", "mute", "snooze", "suppress", "disable", "off", "monitoring"}
    | {"alerting", "paging", "maintenance", "delete", "remove", "unsubscribe", "sleep", "bed"}
    | {"enabled", "pause", "deactivate", "stop", "notifications", "triage"}
)

#: Claims in other English words, searched apart (`_MORE_CLAIM_WORDS`): most texts hold none
#: of their words, and `_CLAIM`, searched in every text holding one of its own, stays as short.
_MORE_CLAIM = re.compile(
    at_word_starts(
        rf"""
      \b(?:is|are|was|were)\s{{1,4}}(?:(?:completely|entirely|totally|likely|probably)\s{{1,4}})?
        (?:benign|harmless)\b
    # expected, so nothing to see ("this is expected", "the spike is expected behaviour")
    | \b(?:this|it|that)\s{{1,4}}is\s{{1,4}}(?:(?:just|only|entirely|completely)\s{{1,4}})?expected
        (?:\s{{1,4}}behaviou?r)?
        (?=[\W_]{{0,4}}$|\s{{0,4}}[^\w\s-]|\s{{1,4}}(?:during|for|after|while|as|and|so|here)\b)
    | \b(?:is|are|was|were)\s{{1,4}}(?:an?\s{{1,4}})?expected\s{{1,4}}behaviou?r\b
    # already closed or in someone else's hands
    | \b{_DISMISSED}\s{{1,4}}(?:is|are|was|were|has|have)
        (?:\s{{1,4}}(?:now|already|been)){{0,2}}\s{{1,4}}closed\b
    | \balready\s{{1,4}}(?:(?:been|being)\s{{1,4}})?
        (?:handled|taken\s{{1,4}}care\s{{1,4}}of|dealt\s{{1,4}}with)\b
    # well again ("healthy again", "now healthy", "returned to baseline")
    | \b(?:is|are)\s{{1,4}}(?:now\s{{1,4}}(?:healthy|stable)|(?:healthy|stable)\s{{1,4}}(?:again|now))\b
    | \b(?:operating|working|running|performing)\s{{1,4}}normally\s{{1,4}}again\b
    | \b(?:returned|back)\s{{1,4}}to\s{{1,4}}baseline\b
    | \breturned\s{{1,4}}to\s{{1,4}}normal\b
    # a step resolving it, or closing or ignoring it where it pages from
    | (?P<step>
        \b(?:(?:(?:acknowledge|ack)\s{{1,4}}and\s{{1,4}})?resolve\s{{1,4}}(?:this|the|these|those|that|both)
          (?:\s{{1,4}}{_PAGER})?
        | (?:ignore|close)\s{{1,4}}(?:this|the|these|those|that|both)\s{{1,4}}{_PAGER})
        \s{{1,4}}{_DISMISSED}{_DISMISSED_END}
      # or left to go away by itself ("wait for it to clear on its own", "let it resolve
      # itself"): no one looks at it
      | \b(?:wait\s{{1,4}}(?:for|until)|let|leave)\s{{1,4}}
          (?:it|this|them|(?:this|the|these|those|that)\s{{1,4}}(?:{_DISMISSED}|errors?|spike))
          \s{{1,4}}(?:to\s{{1,4}})?
          (?:(?:clear|resolve|recover|heal|subside|settle|fix)(?:e?s)?|go(?:es)?\s{{1,4}}away)
          \s{{1,4}}(?:on\s{{1,4}}(?:its|their)\s{{1,4}}own|by\s{{1,4}}(?:itself|themselves)
          |itself|themselves)\b
      )
    # a step silencing it: a downtime, its state set to OK, its rule deleted
    | \bdowntime\s{{1,4}}(?:{_THE}\s{{1,4}})?(?:alert|alarm|monitor|host|check|service)s?(?![\w-])
    | \b(?:schedule|create|add|set)\s{{1,4}}(?:an?\s{{1,4}})?downtime\s{{1,4}}(?:for|on)\s{{1,4}}
        (?:{_THE}\s{{1,4}})?(?:alert|alarm|monitor|host|check|service)s?(?![\w-])
    | \bset\s{{1,4}}(?:the|this|its)\s{{1,4}}(?:alert|alarm|monitor|check)
        (?:\s{{1,4}}(?:state|status))?\s{{1,4}}to\s{{1,4}}(?:ok|resolved|green)\b
    | \b(?:delete|remove|drop)\s{{1,4}}(?:{_THE}\s{{1,4}})?(?:alert|alarm|alerting|monitor)
        \s{{1,4}}rules?\b
    | \bkubectl\b[^\n|;&]{{0,120}}?\bdelete\s{{1,4}}(?:prometheusrules?|alertmanagerconfigs?)\b
    """
    ),
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: What a state's name may not follow: it names where the alert came from ("previous state").
_NOT_NOW = ("previous", "prior", "old", "last", "from")
#: A state the alert is said to be in when it fires no more.
_OK_STATES = ("ok", "green", "normal", "inactive", "cleared")


def _state_name(name: str) -> str:
    """`name` ("state", "status") as a word of its own, not a previous one's: each check
    looks behind the name once it is found, so text without it costs one character's test."""
    return name + "".join([rf"(?<![\w-]{name})", *(rf"(?<!{word}\s{name})" for word in _NOT_NOW)])


#: A firing alert said to be in its OK state, to have stopped, or its outage over: "State: OK",
#: "went from ALARM to OK", "ALARM -> OK", "now in OK state", "stopped firing", "no longer
#: firing", "errors have stopped", "the outage is over", "service restored", "the alarm
#: cleared". OK as where it came from ("from OK to ALARM", "previous state: OK", "OK ->
#: ALARM") or of something else ("the token is OK") is none.
_STATE_CLAIM = re.compile(
    rf"""
      (?:{_state_name("state")}|{_state_name("status")})
        \s{{0,4}}(?:is\s{{1,4}}|[:=]\s{{0,4}})(?:now\s{{1,4}})?(?:back\s{{1,4}})?
        (?:{"|".join(_OK_STATES)})\b(?!\s{{0,4}}(?:to\b|->|→|=>))
    | \b(?:changed|went|moved|transitioned|returned|switched|flipped)\s{{1,4}}
        (?:back\s{{1,4}})?(?:from\s{{1,4}}\w{{1,16}}\s{{1,4}})?to\s{{1,4}}(?:the\s{{1,4}})?
        (?:ok|green|inactive)\b
    | \b(?:alarm|alert|alerting|firing|critical|red)\s{{0,4}}(?:->|→|=>)\s{{0,4}}(?:ok|green|resolved)\b
    | \b(?:is|are)\s{{1,4}}(?:now\s{{1,4}})?(?:back\s{{1,4}})?in\s{{1,4}}(?:the\s{{1,4}}|an?\s{{1,4}})?
        (?:ok|green|normal)\s{{1,4}}state\b
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: What every claim of `_STATE_CLAIM` holds: one of `words` and one of `also` (the state).
_STATE_CLAIM_WORDS = frozenset(
    {"state", "status", "changed", "went", "moved", "transitioned", "returned", "switched"}
    | {"flipped", "->", "→", "=>"}
)
_STATE_CLAIM_ALSO = re.compile(rf"(?<![a-z0-9_])(?:{'|'.join(_OK_STATES)}|resolved)(?![a-z0-9_])")
#: A firing alert, its errors or its outage said to have stopped, or service restored.
_STOPPED_CLAIM = re.compile(
    at_word_starts(
        rf"""
      \b(?:stopped|ceased)\s{{1,4}}(?:firing|alerting|failing|erroring)\b
    | \bno\s{{1,4}}longer\s{{1,4}}(?:firing|alerting|failing|erroring|in\s{{1,4}}alarm)\b
    | \b(?:{_DISMISSED}|outage|problem|errors|failures)\s{{1,4}}(?:has\s{{1,4}}|have\s{{1,4}})?
        (?:(?:now|already|since)\s{{1,4}})?(?:cleared|stopped|ended|ceased|subsided)\b
    | \b(?:{_DISMISSED}|outage|problem|disruption)\s{{1,4}}(?:is|was)\s{{1,4}}(?:now\s{{1,4}})?over\b
    | \b(?:service|services|traffic|access|connectivity|availability)\s{{1,4}}
        (?:(?:has|have)\s{{1,4}}been\s{{1,4}}|is\s{{1,4}}|are\s{{1,4}}|was\s{{1,4}}|were\s{{1,4}})?
        (?:now\s{{1,4}}|fully\s{{1,4}})?restored\b
    """
    ),
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: A word every claim of `_STATE_CLAIM` holds.
_STOPPED_CLAIM_WORDS = frozenset(
    {"stopped", "ceased", "longer", "cleared", "ended", "subsided", "restored", "is over"}
    | {"was over", "now over"}
)
#: A word every claim of `_MORE_CLAIM` holds (a step resolving or closing the alert writes
#: its verb and a space: "resolved", in most resolved alerts' text, is no such step).
_MORE_CLAIM_WORDS = frozenset(
    {"benign", "harmless", "expected", "closed", "already", "healthy", "stable", "normally"}
    | {"baseline", "returned", "resolve ", "ignore ", "close ", "downtime", " to ok", " to green"}
    | {"rule", "itself", "themselves", " own"}
)


#: What an alert's rule is called in a step changing it ("the alert rule", "the monitor").
_RULE = r"(?:alert|alarm|alerting|monitor|rule|check)"
#: Whose setting a step changes: the alert's, its rule's or a named rule's ("the alert's",
#: "the CheckoutErrors rule's", "the alert rule's"), or none said (the ticket's alert).
_RULE_OWNER = rf"(?:(?:[\w-]{{1,64}}\s{{1,4}})?{_RULE}(?:\s{{1,4}}rule)?(?:['\u2019]s)?\s{{1,4}})?"
#: A setting of the rule that decides when it fires: its threshold, how long it must hold
#: (`for:`, a pending period), how many evaluations (CloudWatch's evaluation periods and
#: datapoints to alarm), how sensitive it is.
_RULE_SETTING = (
    r"(?:thresholds?|for:(?:\s{0,4}(?:duration|clause|period|value|time))?"
    r"|pending\s{1,4}(?:period|duration)|evaluation\s{0,4}(?:periods?|window|interval)"
    r"|datapoints\s{1,4}to\s{1,4}alarm|sensitivity|tolerance)(?![\w-])"
)
#: What a changed rule is said to do no more ("so it stops firing", "so that it no longer
#: fires", "to stop it from firing").
_STOPS_FIRING = rf"""(?:so\s{{1,4}}(?:that\s{{1,4}})?(?:it|they|this|the\s{{1,4}}(?:[\w-]{{1,64}}\s{{1,4}})?
        (?:{_RULE}|page)s?)\s{{1,4}}
        (?:stops?\s{{1,4}}(?:firing|alerting|paging|triggering)
        |(?:no\s{{1,4}}longer|won['\u2019]t|doesn['\u2019]t|does\s{{1,4}}not|will\s{{1,4}}not
          |can['\u2019]t|cannot|never)\s{{1,4}}(?:fires?|alerts?|pages?|triggers?|goes\s{{1,4}}off)
        |fires?\s{{1,4}}less)
      |to\s{{1,4}}stop\s{{1,4}}(?:it|them|this|the\s{{1,4}}(?:[\w-]{{1,64}}\s{{1,4}})?(?:{_RULE}|page)s?)
        \s{{1,4}}(?:from\s{{1,4}})?(?:firing|alerting|paging|triggering))\b"""
#: A step silencing the alert by changing its rule, searched apart (`_RETUNED_WORDS`): its
#: threshold raised, its `for:` or evaluation periods lengthened ("raise the threshold",
#: "increase the for: duration", "set the alarm's evaluation periods to 100"), the rule
#: relaxed, or edited so it stops firing, the alert put on an ignore or exclusion list or a
#: host excluded from it, an inhibit rule or a null receiver for it, its severity set to info,
#: or a command rewriting the rule (`aws cloudwatch put-metric-alarm … --threshold`, which
#: replaces the whole alarm, its actions too; `kubectl edit prometheusrule`). Whatever
#: condition follows, the next page does not come. A threshold set to a value ("set the
#: monitor's threshold to 5%") may as well page sooner, its direction unsaid: it is kept. A fix
#: whose goal is that the alert stops ("roll back the deploy so the alert stops firing")
#: changes no rule, nor does tuning a pool, a timeout or the autoscaler.
_RETUNED = re.compile(
    # Each alternative starts a word: the look-behind turns most places down at once.
    rf"""(?<![\w-])(?=[a-z])(?:
      \b(?:raise|increase|bump(?:\s{{1,4}}up)?|up|relax|loosen|widen|lengthen|extend|double)
        \s{{1,4}}(?:(?:the|its|their|this|that)\s{{1,4}})?{_RULE_OWNER}{_RULE_SETTING}
    | \b(?:set|change|adjust|tune|tweak|modify|edit|update)\s{{1,4}}
        (?:(?:the|its|their|this|that)\s{{1,4}})?
        {_RULE_OWNER}(?:for:|pending\s{{1,4}}(?:period|duration)
          |evaluation\s{{0,4}}(?:periods?|window|interval)|datapoints\s{{1,4}}to\s{{1,4}}alarm)
    | \b(?:relax|loosen|weaken|desensiti[sz]e|detune)\s{{1,4}}(?:(?:the|its|their|this|that)\s{{1,4}})?
        (?:[\w-]{{1,64}}\s{{1,4}})?{_RULE}s?(?:\s{{1,4}}(?:rule|condition|query|expression)s?)?\b
    | \b(?:lower|reduce|decrease)\s{{1,4}}(?:(?:the|its|their|this|that)\s{{1,4}})?{_RULE_OWNER}
        (?:threshold\s{{1,4}})?sensitivity\b
    | \b(?:tune|adjust|tweak|reconfigure|edit|modify|change|update|rewrite|relax|loosen|raise
        |increase|lengthen|extend|lower|reduce|decrease|set)\s{{1,4}}
        (?:(?:the|its|their|this|that)\s{{1,4}})?(?:[\w'\u2019-]{{1,64}}\s{{1,4}}){{0,3}}?
        (?:{_RULE}|threshold|query|expression|condition)s?(?:['\u2019]s)?\b
        [^.;\n]{{0,100}}?{_STOPS_FIRING}
    | \badd\s{{1,4}}(?:\S{{1,64}}\s{{1,4}}){{1,3}}?to\s{{1,4}}(?:(?:the|an?|its|our|their)\s{{1,4}})?
        (?:(?:[\w-]{{1,64}}\s{{1,4}})?(?:ignore|ignored|exclusion|exclude|suppression|suppress|mute
          |silence|skip)[\s-]{{0,2}}list
        |{_RULE}(?:['\u2019]s)?\s{{1,4}}(?:allow|white|exception|exclusion)[\s-]{{0,2}}list
        |(?:allow|white|exception|exclusion)[\s-]{{0,2}}list\s{{1,4}}(?:of|for)\s{{1,4}}
          (?:the|this|its)\s{{1,4}}(?:[\w-]{{1,64}}\s{{1,4}})?{_RULE})\b
    | \b(?:exclude|exempt)\s{{1,4}}(?:\S{{1,64}}\s{{1,4}}){{1,3}}?from\s{{1,4}}
        (?:(?:the|this|its|that)\s{{1,4}})?(?:[\w-]{{1,64}}\s{{1,4}})?{_RULE}s?\b
        (?!\s{{1,4}}(?:logs?|dashboard|panel|graph|tag|label)s?\b)
    | \b(?:add|create|write|set\s{{1,4}}up)\s{{1,4}}(?:(?:an?|the)\s{{1,4}})?(?:alertmanager\s{{1,4}})?
        inhibit(?:ion|ing)?\s{{1,4}}rules?\b
    | \broute\s{{1,4}}(?:it|them|this|the\s{{1,4}}(?:[\w-]{{1,64}}\s{{1,4}})?(?:{_DISMISSED}))
        \s{{1,4}}to\s{{1,4}}(?:(?:the|an?)\s{{1,4}})?['"`]?(?:null|blackhole|black\s{{1,4}}hole
        |/?dev/null|devnull|discard)\b
    | \bset\s{{1,4}}(?:(?:the|its|this)\s{{1,4}})?(?:{_RULE_OWNER})?receiver\s{{1,4}}(?:to|=|:)
        \s{{0,4}}(?:the\s{{1,4}})?['"`]?(?:null|blackhole|devnull|discard|none)\b
    | \bcomment\s{{1,4}}out\s{{1,4}}(?:(?:the|this|its)\s{{1,4}})?(?:[\w-]{{1,64}}\s{{1,4}})?
        (?:alert|alarm|alerting)(?:\s{{1,4}}(?:rule|definition|block)s?)?\b
    | \bput-metric-alarm\b[^\n|;&]{{0,400}}?
        --(?:threshold|evaluation-periods|datapoints-to-alarm|period)\b
    | \bkubectl\b[^\n|;&]{{0,120}}?\b(?:edit|patch)\s{{1,4}}prometheusrules?\b
    )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: A word every claim of `_RETUNED` holds (`_Language.by_word`; "for" stands for `for:`),
#: and a verb every one starts with (`_RETUNED_VERBS`, searched once a word is found): a
#: ticket's "Check the value against the threshold" opens no search of `_RETUNED`.
_RETUNED_WORDS = frozenset(
    {"threshold", "thresholds", "for", "pending", "evaluation", "evaluationperiods"}
    | {"datapoints", "sensitivity", "tolerance", "relax", "loosen", "weaken", "desensitise"}
    | {"desensitize", "detune", "so", "stop", "list", "ignorelist", "exclude", "exempt"}
    | {"inhibit", "inhibition", "inhibiting", "null", "blackhole", "black", "devnull"}
    | {"discard", "receiver", "comment", "alarm", "prometheusrule", "prometheusrules"}
    | {f"{kind}list" for kind in ("allow", "white", "exception", "exclusion", "exclude")}
    | {f"{kind}list" for kind in ("ignored", "suppression", "suppress", "mute", "silence", "skip")}
)
_RETUNED_VERBS = re.compile(
    r"(?<![\w-])(?:raise|increase|bump|up|relax|loosen|widen|lengthen|extend|double|set|change"
    r"|adjust|tune|tweak|modify|edit|update|weaken|desensiti[sz]e|detune|lower|reduce|decrease"
    r"|reconfigure|rewrite|add|exclude|exempt|create|write|route|comment|put-metric-alarm"
    r"|kubectl)(?![\w-])"
)
#: A step setting the alert's severity or its ticket's priority to one that pages no one
#: ("set the severity label to info", "change the alert's severity to low"): searched as
#: `_LOWERED` is, in text holding a priority's name and one of those values.
_RELABELLED = re.compile(
    rf"""
    \b(?:set|change|switch|relabel|move)\s{{1,4}}(?:(?:the|its|this)\s{{1,4}})?
      (?:(?:{_DISMISSED}|rule)(?:['\u2019]s)?\s{{1,4}})?(?:severity|priority|urgency)
      (?:\s{{1,4}}label)?\s{{0,4}}(?:to|=|:)\s{{0,4}}['"`]?(?:info|informational|low|none|minor
      |trivial|p[45]|sev[45]|notice)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_RELABELLED_TO = re.compile(
    r"\b(?:info|informational|low|none|minor|trivial|p[45]|sev[45]|notice)\b"
)


#: Where a sentence starts: a bare "Fixed." or "Not urgent." claims only as a sentence.
_SENTENCE_START = r"(?:^|(?<=[.!?;]\s))"
#: Where a bare claim's sentence ends ("Fixed.", "Problem solved!", "Fixed" at the end).
_SENTENCE_DONE = r"(?=[\W_]{0,4}$|\s{0,4}[.!;])"
#: A firing alert said to have misfired ("this alert misfired", "fired in error", "a
#: spurious alert", "known flaky alert", "an FP", "not a real problem", "can be
#: disregarded"), to be able to wait ("not urgent", "this can wait until Monday",
#: "informational only", "FYI only"), to be fixed already in a bare sentence ("Fixed.",
#: "Mitigated already.", "Issue fixed.", "Problem solved.", "The errors are gone.", "errors
#: have dropped to zero"), or to have had its priority lowered by someone ("severity was
#: lowered to info", "downgraded to P4", "the incident has been deprioritised"). Searched
#: apart (`_MISFIRED_WORDS`); another job firing twice, a fix in a release, errors gone from
#: elsewhere, a job's priority or a fixed window claim nothing.
_MISFIRED = re.compile(
    rf"""
      \b(?:{_DISMISSED}|monitor|check|it|this|that)\s{{1,4}}(?:(?:has|had)\s{{1,4}})?misfired\b
    | \ba\s{{1,4}}misfire\b
    | \bfired\s{{1,4}}(?:in\s{{1,4}}error|by\s{{1,4}}mistake|incorrectly|wrongly|erroneously
        |spuriously|for\s{{1,4}}no\s{{1,4}}reason)\b
    | \b(?:spurious|bogus|erroneous|phantom|flaky)\s{{1,4}}(?:{_DISMISSED}|monitor|check)\b
    | \b(?:is|was)\s{{1,4}}(?:an?\s{{1,4}})?fp\b
    | \bcan\s{{1,4}}(?:safely\s{{1,4}})?be\s{{1,4}}(?:safely\s{{1,4}})?
        (?:disregarded|skipped|muted|silenced)\b
    | \bnot\s{{1,4}}an?\s{{1,4}}(?:real|actual|genuine)\s{{1,4}}
        (?:problem|issue|incident|outage|alert|alarm)\b
    # it can wait
    | {_SENTENCE_START}not\s{{1,4}}(?:urgent|important)\b
    | \b(?:this|it|that|{_DISMISSED})\s{{1,4}}(?:is|was)\s{{1,4}}not\s{{1,4}}(?:urgent|important)\b
    | \b(?:this|it|that|{_DISMISSED}|investigation|fix)\s{{1,4}}can\s{{1,4}}(?:safely\s{{1,4}})?wait\b
    | \b(?:informational|for\s{{1,4}}information|fyi)\s{{1,4}}only\b
    # fixed already, said bare
    | {_SENTENCE_START}(?:fixed|mitigated|remediated|solved)
        (?:\s{{1,4}}(?:already|now))?{_SENTENCE_DONE}
    | \b(?:issue|problem|bug|outage|incident|alert|alarm|errors?)\s{{1,4}}(?:now\s{{1,4}})?
        (?:fixed|mitigated|solved|resolved){_SENTENCE_DONE}
    | \b(?:errors?|failures?|problem|issue|spike|outage|alerts?|alarms?)\s{{1,4}}
        (?:are|is|have|has)\s{{1,4}}(?:now\s{{1,4}}|all\s{{1,4}})?gone(?=[\W_]{{0,4}}$|\s{{0,4}}[.!;,])
    | \b(?:errors?|error\s{{1,4}}rate|failures?|5xx)\s{{1,4}}(?:(?:has|have)\s{{1,4}})?
        (?:dropped|fallen|fell|gone|come\s{{1,4}}down|returned)\s{{1,4}}(?:back\s{{1,4}})?to
        \s{{1,4}}(?:zero|none|nothing)\b
    # its priority lowered by someone
    | (?:{_SENTENCE_START}|\b(?:its|the|this)\s{{1,4}}(?:{_DISMISSED}(?:['\u2019]s)?\s{{1,4}})?)
        (?:severity|priority|urgency)\s{{1,4}}(?:was|has\s{{1,4}}been|got|is\s{{1,4}}now)\s{{1,4}}
        (?:lowered|downgraded|reduced|decreased)\b
    | \b(?:downgraded|deprioriti[sz]ed|lowered)\s{{1,4}}to\s{{1,4}}
        (?:p[2-5]|sev[2-5]|low|info|informational|minor|warning|medium)\b
    | \b{_DISMISSED}\s{{1,4}}(?:was|has\s{{1,4}}been|is|got)\s{{1,4}}(?:now\s{{1,4}})?
        (?:deprioriti[sz]ed|downgraded)\b
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: A word every claim of `_MISFIRED` holds (`_Language.by_word`).
_MISFIRED_WORDS = frozenset(
    {"misfired", "misfire", "fired", "spurious", "bogus", "erroneous", "phantom", "flaky", "fp"}
    | {"disregarded", "skipped", "muted", "silenced", "real", "actual", "genuine", "urgent"}
    | {"important", "wait", "only", "fixed", "mitigated", "remediated", "solved", "resolved"}
    | {"gone", "zero", "none", "nothing", "lowered", "downgraded", "reduced", "decreased"}
    | {"deprioritized", "deprioritised"}
)


#: The words each alternative of `_MISFIRED` holds (`_Language.requires`), in its order: its
#: common words ("only", "not", "fixed", "to") are searched for only beside their others.
_MISFIRED_REQUIRES: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(words.split()) for words in sets)
    for sets in (
        ("misfired",),
        ("misfire",),
        ("fired", "error mistake incorrectly wrongly erroneously spuriously reason"),
        ("spurious bogus erroneous phantom flaky",),
        ("fp",),
        ("can", "be", "disregarded skipped muted silenced"),
        ("not", "real actual genuine"),
        ("not", "urgent important"),
        ("not", "urgent important"),
        ("can", "wait"),
        ("only", "informational information fyi"),
        ("fixed mitigated remediated solved",),
        (
            "fixed mitigated solved resolved",
            "issue problem bug outage incident alert alarm error errors",
        ),
        ("gone",),
        ("to", "zero none nothing"),
        ("severity priority urgency", "lowered downgraded reduced decreased"),
        ("downgraded deprioritized deprioritised lowered", "to"),
        ("deprioritized deprioritised downgraded",),
    )
)


#: A status a tag gives the alert: over, dismissed, silenced or taken ("[FP]", "[Muted]").
_STATUS = (
    r"(?:resolved|recovered|recovery|fixed|mitigated|ok|okay|closed|done|cleared|fp"
    r"|false[\s-]{1,4}(?:positive|alarm)|test|drill|noise|noisy|ignore|ignored|ignorable"
    r"|duplicate|dupe|dup|no[\s-]{1,4}action|muted|silenced|snoozed|suppressed|acked"
    r"|acknowledged|wontfix|won['\u2019]?t[\s-]{1,4}fix|benign|harmless|fyi)"
)
#: The statuses a parenthesis gives as surely: one also follows a name in a metric's label
#: ("NetworkIn (expected)", "latency (test)"), so only these are read there.
_PARENTHESISED_STATUS = (
    r"(?:resolved|recovered|fixed|mitigated|closed|fp|false[\s-]{1,4}(?:positive|alarm)"
    r"|ignore|ignored|no[\s-]{1,4}action|muted|silenced|snoozed|suppressed|wontfix)"
)
#: A title (or a line) tagged as over or dismissed: a status in brackets ("[FP] …", "… [ignore]",
#: "(silenced)", "【Resolved】"), a status and a colon opening it (Nagios's "OK: …", "RECOVERY:
#: …"), or "all good". A bracket holding more (`[Testing env]`, `[FIRING:1]`) is a name, not a
#: status, nor is "OK responses" or a negated "all good".
_TAGGED = re.compile(
    rf"""
      [\[\u3010]\s{{0,4}}{_STATUS}\s{{0,4}}[\]\u3011]
    | \(\s{{0,4}}{_PARENTHESISED_STATUS}\s{{0,4}}\)
    | ^[^\w\n]{{0,4}}(?:ok|okay|recovery|recovered|resolved)\s{{0,4}}:(?=\s)
    | \ball\s{{1,4}}(?:good|fine|green)\b
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: A word every claim of `_TAGGED` holds (`_Language.by_word`), and what each also holds.
_TAGGED_WORDS = frozenset(
    {"resolved", "recovered", "recovery", "fixed", "mitigated", "ok", "okay", "closed", "done"}
    | {"cleared", "fp", "false", "test", "drill", "noise", "noisy", "ignore", "ignored"}
    | {"ignorable", "duplicate", "dupe", "dup", "action", "muted", "silenced", "snoozed"}
    | {"suppressed", "acked", "acknowledged", "wontfix", "won", "wont", "benign", "harmless"}
    | {"fyi", "good", "fine", "green"}
)
_TAGGED_ALSO = re.compile(r"[\[(\u3010:]|\ball\s")


#: A step dismissing the alert in its tracker, telling others it is over, or putting it off:
#: its ticket moved to Done or the backlog ("transition the Jira issue to Closed"), closed from
#: the tracker's or pager's command line (`gh issue close`, `pd incident resolve`, `opsgenie
#: alert close`), acknowledged and closed, resolved without a look, customers or the status
#: page told it is over, or left for the morning or business hours. Searched apart
#: (`_PUT_OFF_WORDS`); moving a job's window, leaving a process running under watch, listing
#: issues or acknowledging a page to start work dismiss nothing.
_PUT_OFF = re.compile(
    at_word_starts(
        rf"""
      \b(?:move|transition|put|drag|set)\s{{1,4}}
        (?:it|this|that|them|(?:the|this|that)\s{{1,4}}(?:{_PAGER}\s{{1,4}})?{_DISMISSED})
        \s{{1,4}}(?:to|into|in|as)\s{{1,4}}(?:the\s{{1,4}})?['"`]?
        (?:done|closed|resolved|backlog|icebox|won['\u2019]?t\s{{1,4}}(?:do|fix)|wontfix
        |complete|completed)\b
    | \bgh\s{{1,4}}issue\s{{1,4}}close\b
    | \bpd\s{{1,4}}incident\s{{1,4}}resolve\b
    | \bopsgenie\b[^\n|;&]{{0,60}}?\balert\s{{1,4}}close\b
    | \b(?:ack|acknowledge)\s{{1,4}}(?:(?:it|this|the\s{{1,4}}(?:{_DISMISSED}))\s{{1,4}})?and
        \s{{1,4}}(?:close|resolve|forget|ignore|dismiss|move\s{{1,4}}on)\b
    | \b(?:resolve|close|dismiss|ack|acknowledge)\s{{1,4}}(?:(?:it|this|them|the\s{{1,4}}{_DISMISSED})
        \s{{1,4}})?without\s{{1,4}}(?:investigating|looking|checking|a\s{{1,4}}look)\b
    | \btell\s{{1,4}}(?:the\s{{1,4}})?(?:customers?|users?|clients?|them|everyone|stakeholders)
        \s{{1,4}}(?:that\s{{1,4}})?(?:it|this|the\s{{1,4}}[\w-]{{1,32}})\s{{0,4}}
        (?:is|['\u2019]s|has\s{{1,4}}been|was)\s{{1,4}}(?:fixed|resolved|over|mitigated|solved)\b
    | \b(?:update|set|change|mark|switch)\s{{1,4}}(?:the\s{{1,4}})?status\s{{1,4}}page(?:['\u2019]s)?
        (?:\s{{1,4}}component)?\s{{1,4}}(?:to|as)\s{{1,4}}['"`]?(?:operational|resolved|green|ok
        |all\s{{1,4}}clear|up)\b
    | \b(?:leave|park|defer|postpone|wait)\s{{1,4}}(?:(?:it|this|them|(?:the|this)\s{{1,4}}{_DISMISSED})
        \s{{1,4}})?(?:for|until|till|to)\s{{1,4}}(?:the\s{{1,4}})?
        (?:morning|tomorrow|monday|next\s{{1,4}}(?:week|shift|sprint)
        |(?:business|office|working)\s{{1,4}}hours)\b
    | \b(?:look\s{{1,4}}at|investigate|check|handle|deal\s{{1,4}}with)\s{{1,4}}(?:it|this|them)
        \s{{1,4}}(?:tomorrow|in\s{{1,4}}the\s{{1,4}}morning|on\s{{1,4}}monday|next\s{{1,4}}week
        |during\s{{1,4}}(?:business|office|working)\s{{1,4}}hours)\b
    """
    ),
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: A word every claim of `_PUT_OFF` holds (`_Language.by_word`).
_PUT_OFF_WORDS = frozenset(
    {"done", "closed", "resolved", "backlog", "icebox", "won", "wont", "wontfix", "complete"}
    | {"completed", "gh", "pd", "opsgenie", "ack", "acknowledge", "without", "status"}
    | {"tell", "morning", "tomorrow", "monday", "week", "shift", "sprint", "hours"}
)


#: The words each alternative of `_PUT_OFF` holds (`_Language.requires`), in its order: its
#: common words ("status", "week", "tell", "morning") open a search only beside their others.
_PUT_OFF_REQUIRES: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(words.split()) for words in sets)
    for sets in (
        (
            "move transition put drag set",
            "to into in as",
            "done closed resolved backlog icebox won wont wontfix complete completed",
        ),
        ("gh", "issue", "close"),
        ("pd", "incident", "resolve"),
        ("opsgenie", "alert", "close"),
        ("ack acknowledge", "and", "close resolve forget ignore dismiss move"),
        (
            "resolve close dismiss ack acknowledge",
            "without",
            "investigating looking checking look",
        ),
        ("tell", "fixed resolved over mitigated solved"),
        (
            "update set change mark switch",
            "status",
            "page",
            "to as",
            "operational resolved green ok all up",
        ),
        (
            "leave park defer postpone wait",
            "for until till to",
            "morning tomorrow monday week shift sprint hours",
        ),
        (
            "look investigate check handle deal",
            "it this them",
            "tomorrow morning monday week hours",
        ),
    )
)

#: The same claims in the other languages a model answers in when the alert is written in
#: one (`priority.FOREIGN_PRIORITY` reads their priority words): French, German, Spanish,
#: Portuguese, Italian and Dutch. Each phrase states the claim outright, so a negation inside
#: it ("n'est pas résolu", "ist nicht behoben") breaks the phrase; one before it, a condition
#: or a check, in its clause, makes it none as in English.
_FOREIGN_CLAIM = re.compile(
    at_word_starts(
        r"""
    # only a test or a drill
      \bn['\u2019]est\s{1,4}qu['\u2019]une?\s{1,4}(?:test|exercice)\b
    | \b(?:c['\u2019]est|est|es|era|é|foi|è|is|was)\s{1,4}
        (?:seulement|juste|simplement|uniquement|solo|sólo|solamente|simplemente|apenas|só
          |somente|soltanto|maar|slechts|alleen)\s{1,4}
        (?:une?|una|um|een)\s{1,4}(?:test|exercice|prueba|simulacro|teste|prova|oefening)\b
    | \b(?:nur|bloß|lediglich)\s{1,4}(?:ein|eine)\s{1,4}(?:test|übung|probealarm)\b
    # nothing to do
    | \baucune\s{1,4}action\s{1,4}(?:n['\u2019](?:est|sera)\s{1,4})?(?:requise|nécessaire)\b
    | \brien\s{1,4}à\s{1,4}faire\b
    | \bkeine\s{1,4}(?:weitere[n]?\s{1,4})?(?:aktion|maßnahme|handlung)(?:en)?
        \s{1,4}(?:ist\s{1,4})?(?:erforderlich|nötig|notwendig)\b
    | \bkein\s{1,4}handlungsbedarf\b
    | \bno\s{1,4}se\s{1,4}(?:requiere|necesita)\s{1,4}(?:ninguna\s{1,4})?acción\b
    | \bninguna\s{1,4}acción\s{1,4}(?:es\s{1,4})?(?:necesaria|requerida)\b
    | \bnenhuma\s{1,4}ação\s{1,4}(?:é\s{1,4})?(?:necessária|requerida)\b
    | \bnessuna\s{1,4}azione\s{1,4}(?:è\s{1,4})?(?:richiesta|necessaria)\b
    | \bgeen\s{1,4}actie\s{1,4}(?:is\s{1,4})?(?:nodig|vereist)\b
    # over already
    | \b(?:est|sont|a\s{1,4}été|ont\s{1,4}été)\s{1,4}(?:déjà\s{1,4})?
        (?:résolue?s?|corrigée?s?|rétablie?s?)\b
    | \b(?:ist|sind|wurde|wurden)\s{1,4}(?:bereits|schon|erfolgreich)\s{1,4}
        (?:behoben|gelöst|erledigt)\b
    | \b(?:wurde|wurden)\s{1,4}(?:behoben|gelöst)\b
    | \b(?:ya\s{1,4})?(?:está|están|fue|fueron|ha\s{1,4}sido)\s{1,4}(?:ya\s{1,4})?
        (?:resuelt[oa]s?|solucionad[oa]s?|corregid[oa]s?)\b
    | \b(?:já\s{1,4})?(?:está|foi|foram)\s{1,4}(?:já\s{1,4})?(?:resolvid[oa]s?|corrigid[oa]s?)\b
    | \b(?:è|sono)\s{1,4}(?:già\s{1,4})?(?:stat[oaie]\s{1,4})?(?:risolt[oaie]|corrett[oaie])\b
    | \b(?:is|zijn|werd)\s{1,4}(?:al\s{1,4})?(?:opgelost|verholpen)\b
    # a false alarm
    | \b(?:fausse\s{1,4}alerte|faux\s{1,4}positif|fehlalarm|falscher\s{1,4}alarm
        |falsa\s{1,4}alarma|falso\s{1,4}(?:positivo|alarme|allarme)|vals\s{1,4}alarm)\b
    # a step dismissing it: ignore it, close its ticket
    | (?P<step>
        \bignore[rz]?\s{1,4}(?:cette|ces|les|l['\u2019])\s{0,4}(?:alerte|alarme|incident|ticket)s?\b
      | \bferme[rz]?\s{1,4}(?:ce|cet|cette|le|les|l['\u2019])\s{0,4}(?:ticket|incident|alerte)s?\b
      | \b(?:ignoriere|ignorieren\s{1,4}sie|ignoriert)\s{1,4}(?:diesen|den|diese|die|das)
          \s{1,4}(?:alarm|alert|meldung|ticket|vorfall)\b
      | \b(?:alarm|alert|meldung)\s{1,4}ignorieren\b
      | \b(?:schließe|schließen\s{1,4}sie|schließt)\s{1,4}(?:das|dieses|den|diesen)
          \s{1,4}(?:ticket|vorfall|incident)\b
      | \b(?:ticket|vorfall)\s{1,4}schließen\b
      | \bignor(?:a|e|ar|em)\s{1,4}(?:esta|estas|este|la|las|el|o|a|este|esta|esse|essa)
          \s{1,4}(?:alerta|alarma|alarme|incidencia|incidente|ticket)s?\b
      | \b(?:cierr[ae]|cerrar|cierren)\s{1,4}(?:el|este|la|esta)\s{1,4}(?:ticket|incidente|incidencia)\b
      | \b(?:fech[ae]|fechar)\s{1,4}(?:o|este|a|esta)\s{1,4}(?:ticket|incidente|chamado)\b
      | \bignora(?:re|te)?\s{1,4}(?:questo|questa|l['\u2019]|il|la)\s{0,4}(?:avviso|allarme|alert|ticket|incidente)\b
      | \bchiud(?:i|ere|ete)\s{1,4}(?:il|questo|l['\u2019])\s{0,4}(?:ticket|incidente)\b
      | \bnegeer\s{1,4}(?:deze|dit|het|de)\s{1,4}(?:melding|alert|alarm|ticket|incident)\b
      | \bsluit\s{1,4}(?:het|dit|deze|de)\s{1,4}(?:ticket|incident)\b
      )
    """
    ),
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: Words before a claim in its clause that make it none: a condition, a negation (one before
#: the verb: "no está resuelto"), a "not yet", or an instruction to check.
_FOREIGN_NOT_CLAIMED = re.compile(
    r"\b(?:si|s['\u2019]il|quand|lorsque|wenn|falls|sobald|ob|cuando|una\s+vez|une\s+fois"
    r"|quando|zodra|indien|als|pas|nicht|nie|kein|keine|no|non|não|niet|jamais|nunca|mai"
    r"|encore|noch|todavía|aún|ainda|ancora|nog|vérifie\w*|vérifiez|prüf\w*|überprüf\w*"
    r"|comprueb\w*|comprob\w*|verific\w*|controll\w*|controleer\w*|assurez|asegúrese)\b",
    re.IGNORECASE,
)
_FOREIGN_CONDITION_AFTER = re.compile(
    r"\b(?:si|quand|lorsque|une\s+fois|après|jusqu['\u2019]|wenn|falls|sobald|nachdem|bis"
    r"|cuando|una\s+vez|después|hasta|quando|depois|até|dopo|finché|zodra|als|nadat|totdat)\b",
    re.IGNORECASE,
)
#: A word every claim of `_FOREIGN_CLAIM` holds (lower-case).
_FOREIGN_WORDS = frozenset(
    {"test", "exercice", "übung", "probealarm", "prueba", "simulacro", "prova", "oefening"}
    | {"action", "rien", "aktion", "maßnahme", "handlung", "acción", "ação", "azione", "actie"}
    | {"résolu", "corrigé", "rétabli", "behoben", "gelöst", "erledigt", "resuelt", "soluciona"}
    | {"corregid", "resolvid", "corrigid", "risolt", "corrett", "opgelost", "verholpen"}
    | {"fausse", "faux", "fehlalarm", "falscher", "falsa", "falso", "vals", "ignor", "negeer"}
    | {"ferme", "schließ", "cierr", "cerrar", "fech", "chiud", "sluit"}
)

#: The words each alternative of `_FOREIGN_CLAIM` holds as ASCII text's words
#: (`_Language.requires`), in its order; an empty set where every match holds a letter beyond
#: ASCII ("rien à faire", "acción"), which ASCII text never holds. An English answer's "test",
#: "action" or "ignore" opens a search only beside the other words of an alternative.
_FOREIGN_REQUIRES: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(words.split()) for words in sets)
    for sets in (
        ("est", "qu", "un une", "test exercice"),
        (
            "est es era foi is was",
            "seulement juste simplement uniquement solo solamente simplemente apenas somente"
            " soltanto maar slechts alleen",
            "un une una um een",
            "test exercice prueba simulacro teste prova oefening",
        ),
        ("nur lediglich", "ein eine", "test probealarm"),
        ("aucune", "action", "requise"),
        ("",),
        ("keine", "aktion aktionen handlung handlungen", "erforderlich notwendig"),
        ("kein", "handlungsbedarf"),
        ("",),
        ("",),
        ("",),
        ("nessuna", "azione", "richiesta necessaria"),
        ("geen", "actie", "nodig vereist"),
        ("",),
        ("ist sind wurde wurden", "bereits schon erfolgreich", "behoben erledigt"),
        ("wurde wurden", "behoben"),
        (
            "fue fueron sido",
            "resuelto resuelta resueltos resueltas solucionado solucionada solucionados"
            " solucionadas corregido corregida corregidos corregidas",
        ),
        (
            "foi foram",
            "resolvido resolvida resolvidos resolvidas corrigido corrigida corrigidos corrigidas",
        ),
        ("sono", "risolto risolta risolti risolte corretto corretta corretti corrette"),
        ("is zijn werd", "opgelost verholpen"),
        ("fausse faux fehlalarm falscher falsa falso vals",),
        (
            "ignore ignorer ignorez ferme fermer fermez ignoriere ignorieren ignoriert ignora"
            " ignorar ignorem ignorare ignorate cierra cierre cerrar cierren fecha feche fechar"
            " chiudi chiudere chiudete negeer sluit",
        ),
    )
)
#: The same claims in Chinese (simplified and traditional), Japanese and Korean, which an
#: alert written in them is answered in: a false alarm, nothing to do, over already, and a
#: step ignoring or closing it. A negation written after the claim ("誤報ではありません",
#: "오경보가 아닙니다": is not a false alarm) makes it none.
_CJK_CLAIM = re.compile(
    r"""
    # a false alarm
      (?:误报|誤報|虚警|虛警|假警报|假警報|誤検知|오경보|오탐지?|거짓\s?경보)
        (?!\s?(?:では|じゃ|[가이]\s?아[니닌닙]))
    # nothing to do
    | (?:无需|無需|不需要|不必|无须|無須)(?:任何|采取|採取)?(?:处理|處理|操作|行动|行動|处置|處置|措施)
    | (?:対応|対処|アクション|作業)(?:は|が)?(?:不要|必要ありません|必要ない|の必要はありません)
    | 조치(?:가|는)?\s?(?:필요하지\s?않|불필요|필요\s?없)
    # over already
    | 已(?:经|經)?(?:解决|解決|恢复|恢復|修复|修復|处理完毕|處理完畢)
    | (?:解決済み|解決しました|復旧しました|復旧済み|解消しました|解消済み)
    | (?:해결되었|복구되었|해결됨|복구됨|해결\s?완료)
    # a step ignoring or closing it
    | (?P<step>
        (?:请|請)?忽略(?:此|这个|這個|该|該|本)?(?:告警|警报|警報|报警|報警|工单|工單|事件)?
      | (?:关闭|關閉)(?:此|这个|這個|该|該)?(?:工单|工單|告警|事件)
      | (?:アラート|チケット|インシデント|通知)を?(?:無視|クローズ|閉じ)
      | 無視して(?:ください|下さい|構いません|問題ありません)
      | (?:경보|알림|티켓|인시던트)(?:을|를)?\s?(?:무시|닫|종료)
      | 무시(?:하세요|하십시오|해도|하셔도)
      )
    """,
    re.VERBOSE,
)
#: Words before a CJK claim in its clause (up to a CJK or Latin clause mark) that make it
#: none: a negation ("不是误报"), a condition ("如果已解决"), or a check ("确认是否").
_CJK_NOT_CLAIMED = re.compile(
    r"(?:不是|并非|並非|没有|沒有|未|尚未|如果|若|一旦|是否|确认|確認|检查|檢查|もし|かどうか"
    r"|만약|여부|확인)[^\u3001\u3002\uff01\uff0c\uff1b\uff1f.!?;,\n]{0,40}\Z"
)
#: A condition after a CJK step dismissing the alert ("关闭工单 在恢复之后": once recovered).
_CJK_CONDITION_AFTER = re.compile(r"之后|之後|以后|以後|直到|一旦|したら|後に|되면|후에|까지")
#: A literal every claim of `_CJK_CLAIM` holds.
_CJK_WORDS = frozenset(
    {"误报", "誤報", "虚警", "虛警", "假警", "誤検知", "오경보", "오탐", "경보", "无需", "無需"}
    | {"不需要", "不必", "无须", "無須", "不要", "必要", "조치", "已", "解決", "復旧", "解消"}
    | {"해결", "복구", "忽略", "关闭", "關閉", "無視", "クローズ", "閉じ", "무시", "닫", "종료"}
)
#: The same claims in Polish, the language of the region's many on-call teams that a model
#: answers a Polish alert in, with its letters or without them ("falszywy alarm"): a false
#: alarm, nothing to do, over already, and a step ignoring or closing it. A Polish answer
#: naming the alert's host passes the script checks (`scripts.unread_and_unfounded`), so only
#: its claims tell a dismissal from a real answer. "nie" opens some claims ("nie wymaga
#: działania"); before one in its clause ("to nie jest fałszywy alarm") it makes it none.
_POLISH_CLAIM = re.compile(
    at_word_starts(
        r"""
    # a false alarm
      \bfa[łl]szyw\w{0,3}\s{1,4}(?:alarm|alert|pozytyw)\w{0,3}\b
    # nothing to do
    | \bnie\s{1,4}wymaga\s{1,4}(?:[żz]adn\w{0,3}\s{1,4})?
        (?:dzia[łl]a\w{1,3}|interwencji|reakcji|uwagi)\b
    | \bnie\s{1,4}(?:trzeba|nale[żz]y)\s{1,4}(?:nic\s{1,4})?(?:robi[ćc]|podejmowa[ćc])\b
    | \bnic\s{1,4}nie\s{1,4}trzeba\s{1,4}robi[ćc]\b
    # over already
    | \b(?:zosta[łl]\w{0,2}\s{1,4})?(?:ju[żz]\s{1,4})
        (?:rozwi[ąa]zan\w{1,2}|naprawion\w{1,2}|usuni[ęe]t\w{1,2})\b
    | \bzosta[łl]\w{0,2}\s{1,4}(?:rozwi[ąa]zan\w{1,2}|naprawion\w{1,2})\b
    # a step dismissing it: ignore it, close its ticket
    | (?P<step>
        \b(?:zignoruj|ignoruj)(?:cie)?\s{1,4}(?:ten|to|te|t[ęe])?\s{0,4}
          (?:alert\w{0,2}|alarm\w{0,2}|zg[łl]oszeni\w{1,2}|powiadomieni\w{1,2}|incydent\w{0,2})\b
      | \bzamknij(?:cie)?\s{1,4}(?:ten|to|te|t[ęe])?\s{0,4}
          (?:zg[łl]oszeni\w{1,2}|ticket\w{0,2}|incydent\w{0,2}|alert\w{0,2})\b
      )
    """
    ),
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
#: Words before a Polish claim in its clause that make it none: a negation, a condition, a
#: "not yet" or an instruction to check.
_POLISH_NOT_CLAIMED = re.compile(
    r"\b(?:nie|nigdy|je[śs]li|je[żz]eli|gdy|kiedy|gdyby|czy|dopiero|jeszcze"
    r"|sprawd\w{1,4}|upewnij|potwierd\w{1,4}|zweryfikuj)\b",
    re.IGNORECASE,
)
_POLISH_CONDITION_AFTER = re.compile(
    r"\b(?:gdy|kiedy|je[śs]li|je[żz]eli|po|dopiero|a[żz]|dop[oó]ki)\b",
    re.IGNORECASE,
)
#: A literal every claim of `_POLISH_CLAIM` holds (lower-case).
_POLISH_WORDS = frozenset(
    {"fałszyw", "falszyw", "wymaga", "trzeba", "należy", "nalezy", "rozwiązan", "rozwiazan"}
    | {"naprawion", "usunięt", "usuniet", "ignoruj", "zamknij"}
)
_LANGUAGES = (
    _Language(_CLAIM, _NOT_CLAIMED, _CONDITION_AFTER, _CLAIM_WORDS, requires=_CLAIM_REQUIRES),
    _Language(_MORE_CLAIM, _NOT_CLAIMED, _CONDITION_AFTER, _MORE_CLAIM_WORDS),
    _Language(
        _STATE_CLAIM, _NOT_CLAIMED, _CONDITION_AFTER, _STATE_CLAIM_WORDS, _STATE_CLAIM_ALSO, True
    ),
    _Language(_STOPPED_CLAIM, _NOT_CLAIMED, _CONDITION_AFTER, _STOPPED_CLAIM_WORDS),
    _Language(_LOWERED, _NOT_CLAIMED, _CONDITION_AFTER, _LOWERED_WORDS, _LOWERING),
    _Language(_RARE_CLAIM, _NOT_CLAIMED, _CONDITION_AFTER, _RARE_CLAIM_WORDS, by_word=True),
    _Language(_SILENCING, _NOT_CLAIMED, _CONDITION_AFTER, _SILENCING_WORDS, by_word=True),
    _Language(
        _RETUNED, _NOT_CLAIMED, _CONDITION_AFTER, _RETUNED_WORDS, _RETUNED_VERBS, by_word=True
    ),
    _Language(_RELABELLED, _NOT_CLAIMED, _CONDITION_AFTER, _LOWERED_WORDS, _RELABELLED_TO),
    _Language(
        _MISFIRED,
        _NOT_CLAIMED,
        _CONDITION_AFTER,
        _MISFIRED_WORDS,
        by_word=True,
        requires=_MISFIRED_REQUIRES,
    ),
    _Language(
        _PUT_OFF,
        _NOT_CLAIMED,
        _CONDITION_AFTER,
        _PUT_OFF_WORDS,
        by_word=True,
        requires=_PUT_OFF_REQUIRES,
    ),
    _Language(
        _TAGGED,
        _NOT_CLAIMED,
        _CONDITION_AFTER,
        _TAGGED_WORDS,
        _TAGGED_ALSO,
        whole=True,
        by_word=True,
    ),
    _Language(
        _FOREIGN_CLAIM,
        _FOREIGN_NOT_CLAIMED,
        _FOREIGN_CONDITION_AFTER,
        _FOREIGN_WORDS,
        requires=_FOREIGN_REQUIRES,
    ),
    _Language(_CJK_CLAIM, _CJK_NOT_CLAIMED, _CJK_CONDITION_AFTER, _CJK_WORDS),
    _Language(_POLISH_CLAIM, _POLISH_NOT_CLAIMED, _POLISH_CONDITION_AFTER, _POLISH_WORDS),
)
#: The words searched for within the text (not by word): found by the one pass.
_SUBSTRINGS = Literals(
    word for language in _LANGUAGES if not language.by_word for word in language.words
)


def _clauses(text: str, ends: re.Pattern[str] = _CLAUSE_END) -> Iterator[slice]:
    """The spans of `text`'s clauses (or of what else `ends` ends), each up to and including
    the mark that ends it."""
    start = 0
    for end in ends.finditer(text):
        yield slice(start, end.end())
        start = end.end()
    yield slice(start, len(text))
