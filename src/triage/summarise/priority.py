"""The priority rule both summarisers follow, so alert text cannot talk a ticket up.

    1. The priority the source states wins outright.
    2. Otherwise the default is what the severity maps to (`SEVERITY_PRIORITY`, case-insensitive),
       and medium when there is no severity or one we do not know.
    3. A reading of the alert text (the model's answer, or a known pattern's hint) may move the
       default at most one step: critical > high > medium > low. Asking for more is limited to
       one step. Whenever the result differs from the default, the ticket says why in one line.

    4. The ticket states one priority: a statement or a tag in its text stating another
       ("Priority: critical", "**Severity:** P0", "Priorität: kritisch", "[P0] Checkout is
       down", "… - P0" beside a high ticket) is corrected to state the ticket's, what it said
       kept in words (`agreeing`); a title carries no priority tag of its own ("[P0]
       Checkout down", "(P1)", "[CRITICAL]", "SEV1 | …", "… - P0", nor a marker opening
       it as Slack's header does, "🔴 CRITICAL: …", ":red_circle: …", "CRITICAL: …"): it
       is taken out, since every sink shows the ticket's priority beside the title its own
       way (GitHub's "[P1] " prefix, Slack's "🟠 HIGH:", the backend's field), and a title
       would otherwise read "[P1] [P0] Checkout down" or "🔵 LOW: 🔴 CRITICAL: …"
       (`untagged`). Nothing inside a link or code is a statement or a tag
       ("?priority=critical" in a runbook's URL, `priority: critical` in a config): it is
       part of the link or the code, and left whole (`_Verbatim`).

Every function takes plain values (not an `Alert`), so any view of the alert can use them.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from triage.models import Priority
from triage.normalize.common import cut, line, priority, showing
from triage.summarise.literals import Literals

#: Source severities (lower-cased, a level without its separator: `_level_key`) and the
#: priority they imply when the source states none: the incident scale SEV0 to SEV4 (SEV0 and
#: SEV1 the worst), syslog's eight level names, Zabbix's six severities (`Not classified` is
#: the unknown default) and the log levels of log4j, .NET and Serilog (trace, verbose). P4 and
#: P5 are low: every scale that has them (Opsgenie's and PagerDuty's P1..P5, ITIL's) puts them
#: below P3, already the lowest of our four.
SEVERITY_PRIORITY = {
    **dict.fromkeys(
        ["critical", "crit", "fatal", "emergency", "emerg", "alert", "sev0", "sev1", "p0",
         "disaster"],
        Priority.CRITICAL,
    ),
    **dict.fromkeys(["error", "err", "high", "major", "sev2", "p1", "page"], Priority.HIGH),
    **dict.fromkeys(
        ["warning", "warn", "medium", "minor", "average", "sev3", "p2"], Priority.MEDIUM
    ),
    **dict.fromkeys(
        ["info", "informational", "information", "notice", "low", "debug", "trace", "verbose",
         "sev4", "p3", "p4", "p5", "none"],
        Priority.LOW,
    ),
}  # fmt: skip
#: A level written with a separator ("SEV 0", "sev-1", "Sev_2", "P 1"): read as "sev0", "p1".
_SPELT_LEVEL = re.compile(r"(sev|p)[\s_-]{0,3}(\d)")

#: Least to most urgent: one step is one place in this list.
_LADDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)

#: Severity is alert text: the note quotes at most this much of it.
_SEVERITY_CHARS = 32


def severity_priority(severity: str | None) -> Priority | None:
    """The priority a severity maps to, or None when there is none or we do not know it."""
    if not severity:
        return None
    return SEVERITY_PRIORITY.get(_level_key(severity))


def _level_key(severity: str) -> str:
    """`severity` as `SEVERITY_PRIORITY` lists it: lower case, a level's separator gone."""
    key = severity.strip().lower()
    spelt = _SPELT_LEVEL.fullmatch(key)
    return f"{spelt[1]}{spelt[2]}" if spelt else key


def default_priority(severity: str | None) -> Priority:
    """The priority an alert gets when nothing but its severity is trusted: mapped, else medium."""
    return severity_priority(severity) or Priority.MEDIUM


def one_step(default: Priority, suggested: Priority) -> Priority:
    """`suggested`, but at most one step away from `default`."""
    start, wanted = _LADDER.index(default), _LADDER.index(suggested)
    return _LADDER[max(start - 1, min(start + 1, wanted))]


@dataclass(frozen=True, slots=True)
class Decision:
    priority: Priority
    #: One line for the end of the description when the priority is not the default, else None.
    note: str | None = None


def decide(
    stated: Priority | None,
    severity: str | None,
    suggested: Priority | None,
    *,
    by: str,
    suggester: str,
) -> Decision:
    """The ticket's priority under the rule above, and the line that explains a move.

    `by` ends the note's first sentence ("by the summary's reading of the alert"); `suggester`
    names what suggested the priority ("summary", "pattern"), for when it asked for more.
    """
    if stated is not None:
        return Decision(stated)
    default = default_priority(severity)
    if suggested is None or suggested is default:
        return Decision(default)
    final = one_step(default, suggested)
    direction = "above" if _LADDER.index(final) > _LADDER.index(default) else "below"
    note = f"Priority: {final}, one step {direction} {default} ({_why_default(severity)}), {by}."
    if final is not suggested:
        note += (
            f" The {suggester} suggested {suggested}; a {suggester} may move priority one step"
            " from the severity's default."
        )
    return Decision(final, note)


def _why_default(severity: str | None) -> str:
    shown = line(severity, "severity", _SEVERITY_CHARS * 4) if severity else None
    if not shown:
        return "the default without a severity"
    quoted = "'" + cut(shown, _SEVERITY_CHARS, ellipsis=True) + "'"
    if severity_priority(severity) is None:
        return f"the default for the unrecognised severity {quoted}"
    return f"the default for severity {quoted}"


#: Priority words in the languages a model most often answers in besides English (German,
#: French, Spanish, Portuguese, Italian, Dutch, Polish, Russian, Chinese, Japanese, Korean).
_FOREIGN_WORDS = {
    Priority.CRITICAL: "kritisch critique crítica crítico critica critico kritiek krytyczny"
    " критический 严重 紧急 緊急 重大 긴급 심각",
    Priority.HIGH: "hoch haute élevée élevé alta alto elevata hoog wysoki высокий 高 高い 높음",
    Priority.MEDIUM: "mittel moyenne moyen media medio média médio gemiddeld średni средний"
    " 中 中等 普通 보통 중간",
    Priority.LOW: "niedrig basse bas faible baja bajo baixa baixo bassa basso laag niski"
    " низкий 低 低い 낮음",
}
FOREIGN_PRIORITY = {
    word: level for level, words in _FOREIGN_WORDS.items() for word in words.split()
}


def word_priority(word: str) -> Priority | None:
    """The priority one word (or P-level) names: as an alert's own field is read ("P1",
    "urgent", "sev2"), else a priority word of another language (`FOREIGN_PRIORITY`)."""
    return priority(word) or FOREIGN_PRIORITY.get(word.strip().casefold())


# --- a ticket states one priority --------------------------------------------------------------

#: Names of a priority, in the languages `FOREIGN_PRIORITY` reads priority words in.
_PRIORITY_KEYS = (
    "priority prio urgency priorität dringlichkeit priorité urgence prioridad urgencia"
    " prioridade urgência priorità urgenza prioriteit urgentie priorytet pilność приоритет"
    " срочность"
)
#: Names of a severity. Severity is not priority: only a P-level under one states a priority.
_SEVERITY_KEYS = (
    "severity sev schweregrad gravité sévérité severidad gravedad severidade gravidade gravità"
    " severità ernst ważność серьёзность серьезность важность"
)
#: The same in Chinese, Japanese and Korean, which write no space before a name.
_CJK_SEVERITY = "严重程度 严重性 重大度 深刻度 심각도"
_CJK_PRIORITY_KEYS = "优先级 優先級 紧急程度 優先度 優先順位 緊急度 우선순위 긴급도"
_CJK_KEYS = f"{_CJK_PRIORITY_KEYS} {_CJK_SEVERITY}"
_SEVERITY = frozenset(f"{_SEVERITY_KEYS} {_CJK_SEVERITY}".split())


def _alternatives(words: str) -> str:
    return "|".join(re.escape(word) for word in sorted(words.split(), key=len, reverse=True))


#: A statement of a priority: a name, a separator (`:`, fullwidth too, `=`, a table's `|`;
#: Markdown around it), a value of one word or a P-level, and then the end of its line or a mark
#: that ends a value (`.`, `,`, `|`, `)`, " (", " - "), so "Priority: high availability" states none.
#: Every part is bounded, so finding them is linear in the text.
_STATEMENT = re.compile(
    rf"(?P<key>(?<![\w-])(?:{_alternatives(_PRIORITY_KEYS + ' ' + _SEVERITY_KEYS)})(?![\w-])"
    rf"|(?:{_alternatives(_CJK_KEYS)}))"
    r"(?P<sep>[ \t*_`]{0,4}[:=\uff1a|][ \t*_`'\"]{0,8})"
    r"(?P<value>p[ _-]?\d|[^\W_]{1,16})"
    r"(?=[*_`'\"]{0,4}(?:[ \t]*$|[.,;:|)!\]\u3002\uff0c\u3001]|[ \t]{1,4}[(|\-\u2013\u2014]))",
    re.IGNORECASE | re.MULTILINE,
)
#: The first letters of every name: text holding none of them states no priority, and is not
#: searched (most text; the search costs a fraction of a microsecond per character).
_STEMS = Literals(key[:4] for key in f"{_PRIORITY_KEYS} {_SEVERITY_KEYS} {_CJK_KEYS}".split())
_P_LEVEL = re.compile(r"p[ _-]?\d", re.IGNORECASE)
#: The P-level of each priority, for a statement written as one.
_P_LEVELS = {
    Priority.CRITICAL: "P0",
    Priority.HIGH: "P1",
    Priority.MEDIUM: "P2",
    Priority.LOW: "P3",
}


#: A priority's name and separator leading a value ("Priority: high", "**Priorität**: hoch",
#: "优先级" and a fullwidth colon): the model wrote the field's name into its value. A
#: severity's name is not one (severity is not priority: "Severity: 2" is no P2).
_LABEL = re.compile(
    rf"[\s*_`]{{0,4}}(?:{_alternatives(_PRIORITY_KEYS)}|{_alternatives(_CJK_PRIORITY_KEYS)})"
    r"[\s*_`]{0,4}[:=\uff1a][\s*_`'\"]{0,8}",
    re.IGNORECASE,
)


def unlabelled(value: str) -> str | None:
    """`value` without a priority's name and separator before it ("Priority: low" → "low");
    None when it has none."""
    found = _LABEL.match(value)
    return value[found.end() :] if found is not None else None


def agreeing(
    text: str,
    final: Priority,
    *,
    severity: str | None = None,
    prose: bool = False,
    quoting: str = "",
) -> tuple[str, int]:
    """`text` with every statement of a priority other than the ticket's `final` ("Priority:
    critical", "**Severity:** P0", "Priorität: kritisch") made to state `final`, in P-level
    form when it was written as one, what it said kept ("Priority: high (corrected from
    critical)"), and every priority tag naming another (`untagged`'s, on any line: "[P0] …"
    as "[P1, corrected from P0] …", "P0: …" and "… - P0" as "P1 (corrected from P0)");
    and how many were. A severity word under a severity's name ("Severity: critical"), the
    alert's own `severity` under one ("Severity: P2" of a P2 alert moved to high: the
    ticket's note says why), prose ("the priority is critical") and anything inside a link
    or code (`_Verbatim`) are left as written.

    With `prose` (the model's own words, not the alert's), a P- or SEV-level in a sentence
    ("Treat as P4.", "a SEV-1 incident") is corrected too (`_agreeing_prose`), unless it is
    quoted history: inside quotes or a blockquote holding words `quoting` (the alert's text)
    holds."""
    verbatim = _Verbatim(text)
    text, stated = _agreeing_statements(text, final, severity, verbatim)
    if stated:
        verbatim = _Verbatim(text)
    text, tagged = _agreeing_tags(text, final, verbatim)
    if not prose:
        return text, stated + tagged
    text, said = _agreeing_prose(text, final, severity, quoting)
    return text, stated + tagged + said


def _agreeing_statements(
    text: str, final: Priority, severity: str | None, verbatim: _Verbatim
) -> tuple[str, int]:
    """`agreeing` for "Key: value" statements."""
    lowered = text.lower()
    if not _STEMS.any_in(lowered):
        return text, 0
    corrected = 0

    def correct(match: re.Match[str]) -> str:
        nonlocal corrected
        key, value = match["key"], match["value"]
        stated = _stated(key, value, severity)
        if stated is None or stated is final or verbatim.holds(match.start()):
            return match[0]
        corrected += 1
        return f"{key}{match['sep']}{_said(value, final)} (corrected from {value})"

    return _STATEMENT.sub(correct, text), corrected


def _agreeing_tags(text: str, final: Priority, verbatim: _Verbatim) -> tuple[str, int]:
    """`agreeing` for priority tags: a bracketed one anywhere, a level opening or ending a
    line after a separator."""
    if not _MAY_TAG.search(text):
        return text, 0
    corrected = 0

    def correct(match: re.Match[str]) -> str:
        nonlocal corrected
        # What the tag names first: most brackets name no priority ("[Platform]", "(kubectl
        # …)"), and then the text's links and code need not be found.
        if _tagged(match) in (None, final) or not _a_tag(match, text, verbatim):
            return match[0]
        corrected += 1
        level = match["lead"] or match["tail"]
        if level is not None:
            at = match.start("lead" if match["lead"] else "tail") - match.start()
            said = f"{_said(level, final)} (corrected from {level})"
            return match[0][:at] + said + match[0][at + len(level) :]
        value = match["value"]
        at, end = match.start("value") - match.start(), match.end("value") - match.start()
        return f"{match[0][:at]}{_said(value, final)}, corrected from {value}{match[0][end:]}"

    return _LINE_TAG.sub(correct, text), corrected


#: A P- or SEV-level standing as a word in a sentence: "P4", "SEV-1", "Sev 3". A lower-case
#: "p1" is a host's name as often, "P95" a percentile and "P1-db" a name: none is a level.
_PROSE_LEVEL = re.compile(r"(?<![\w./-])(?:P[_-]?\d|(?:SEV|Sev|sev)[ _-]?\d)(?![\w-]|\.\d)")
#: Where the text quotes: a span in double quotes of any typography on one line, or a
#: Markdown blockquote's line. Bounded, so finding them is linear.
_QUOTED = re.compile(
    r"\"[^\"\n]{1,500}\"|\u201c[^\u201d\n]{1,500}\u201d|\u00ab[^\u00bb\n]{1,500}\u00bb"
    r"|\u201e[^\u201c\u201d\n]{1,500}[\u201c\u201d]|^[ \t]{0,3}>[^\n]{0,4000}",
    re.MULTILINE,
)
#: What comes before a level a correction already kept ("P2 (corrected from P0)").
_CORRECTED_FROM = "corrected from "


def _agreeing_prose(
    text: str, final: Priority, severity: str | None, quoting: str
) -> tuple[str, int]:
    """`agreeing` for a level stated in prose; one quoted from the alert's own words, in
    code or a link, already corrected, or the alert's own `severity` is left as written."""
    if not _PROSE_LEVEL.search(text):
        return text, 0
    verbatim = _Verbatim(text)
    history = _history(text, quoting)
    corrected = 0

    def correct(match: re.Match[str]) -> str:
        nonlocal corrected
        level, at = match[0], match.start()
        stated = priority(level)
        if (
            stated is None
            or stated is final
            or verbatim.holds(at)
            or any(start <= at < end for start, end in history)
            or text.endswith(_CORRECTED_FROM, 0, at)
            or _a_fields_value(text, at)
            or _level(level) == _level(severity or "")
        ):
            return level
        corrected += 1
        return f"{_said(level, final)} (corrected from {level})"

    return _PROSE_LEVEL.sub(correct, text), corrected


def _a_fields_value(text: str, at: int) -> bool:
    """Whether the level at `at` is a field's value ("azure_severity=Sev4", "sev: P2"): a
    label the alert carries, copied as a fact; a priority's own field is a statement, which
    `_agreeing_statements` reads."""
    return text[max(0, at - 4) : at].rstrip(" \t\"'").endswith(("=", ":"))


def _history(text: str, quoting: str) -> list[tuple[int, int]]:
    """The spans of `text` that quote `quoting` (the alert's words): a quote or blockquote
    whose words, case and spacing aside, the alert holds. A quote of the model's own is no
    history: it states what the model says."""
    source = _plain(quoting)
    spans = []
    for match in _QUOTED.finditer(text):
        inner = match[0].lstrip(" \t>").strip('"\u201c\u201d\u00ab\u00bb\u201e')
        said = _plain(inner)
        if said and _words_beside_levels(said) and said in source:
            spans.append(match.span())
    return spans


def _words_beside_levels(text: str) -> bool:
    """Whether `text` holds a letter besides its levels: a quote that is a level alone
    ("P4") quotes nothing but a priority, so it is a statement wherever the alert holds it."""
    return any(c.isalpha() for c in _PROSE_LEVEL.sub("", text.upper()))


def _plain(text: str) -> str:
    """`text` without case, and each run of whitespace one space."""
    return " ".join(text.casefold().split())


def _said(value: str, final: Priority) -> str:
    """How a corrected statement or tag names `final`: as a P-level when `value` is one."""
    return _P_LEVELS[final] if _P_LEVEL.fullmatch(value) else final.value


def _stated(key: str, value: str, severity: str | None) -> Priority | None:
    """The priority a statement's `value` names under its `key`: under a severity's name, only
    a P-level states one, and not the alert's own `severity` (a fact about the alert)."""
    if key.casefold() in _SEVERITY and (
        not _P_LEVEL.fullmatch(value) or _level(value) == _level(severity or "")
    ):
        return None
    return word_priority(value)


def _level(value: str) -> str:
    """A level without case, spaces, `-` or `_`: "P 2", "p-2" and "P2" are one."""
    return "".join(c for c in value.casefold() if c.isalnum())


# --- a title carries no priority tag -------------------------------------------------------------

#: Brackets a tag is written in, each opener with its closer: ASCII, and the fullwidth and
#: lenticular ones of Chinese and Japanese titles.
_BRACKETS = {"[": "]", "(": ")", "\u3010": "\u3011", "\uff3b": "\uff3d", "\uff08": "\uff09"}
#: Parentheses hold remarks ("Disk usage (high)"): only a level or a named priority in them
#: is a tag.
_PARENTHESES = frozenset("(\uff08")
#: Lenticular and fullwidth square brackets tag a Chinese or Japanese title ("【紧急】"): a
#: priority word of another language in them is a tag (in ASCII ones, "[Media]" or "[Alto]"
#: names a component as often).
_CJK_BRACKETS = frozenset("\u3010\uff3b")
#: A P-level or a Sev-level: "P0", "p 1", "SEV-2", "sev_1".
_LEVEL = r"(?:p|sev)[ _-]?\d"
_P_OR_SEV = re.compile(_LEVEL, re.IGNORECASE)
#: A separator between a title's text and a level opening or ending it: ":", "|", a dash.
_LEAD_SEPARATOR = r"(?:[ \t]{0,3}[:|]|[ \t]{1,3}[-\u2013\u2014]|[-\u2013\u2014][ \t])"
_TAIL_SEPARATOR = r"(?:[ \t]{0,3}[:|]|[ \t]{1,3}[-\u2013\u2014])[ \t]{0,3}"


def _tag_pattern(start: str, end: str, flags: re.RegexFlag) -> re.Pattern[str]:
    """A tag: a bracketed level, priority word or named priority ("[P0]", "[CRITICAL]",
    "[Priority: P0]", "[prio=urgent]") that is no Markdown link's text; or a P- or Sev-level
    opening the text at `start` before a separator ("P0: …", "SEV1 | …", "P1 - …"), or
    ending it at `end` after one ("… - P0", "… | SEV1", "…: P0."). Every part is bounded:
    finding them is linear."""
    return re.compile(
        rf"(?P<open>[{re.escape(''.join(_BRACKETS))}])[ \t]{{0,3}}"
        r"(?:(?P<key>priority|prio)[ \t]{0,2}[:=]?[ \t]{0,2})?"
        rf"(?P<value>{_LEVEL}|[^\W\d_]{{1,16}})[ \t]{{0,3}}"
        rf"(?P<close>[{re.escape(''.join(_BRACKETS.values()))}])(?!\()"  # "[high](…)": a link
        rf"|{start}[ \t]*(?P<lead>{_LEVEL}){_LEAD_SEPARATOR}"
        rf"|{_TAIL_SEPARATOR}(?P<tail>{_LEVEL})(?=[ \t]*[.!]?[ \t]*{end})",
        re.IGNORECASE | flags,
    )


#: A title's tags (`untagged`), and those of any line of a ticket's text (`agreeing`).
_TAG = _tag_pattern(r"\A", r"\Z", re.NOFLAG)
_LINE_TAG = _tag_pattern("^", "$", re.MULTILINE)
#: What any tag holds: text with none of it holds no tag, and is not searched.
_MAY_TAG = re.compile(rf"[{re.escape(''.join(_BRACKETS))}]|{_LEVEL}", re.IGNORECASE)
#: Severity words that name a level as plainly as a priority word does ("[WARNING] Disk
#: full"); not "error", "alert" or "page", which tag what a title is about as often.
_TAG_SEVERITIES = frozenset({"warning", "warn", "fatal", "emerg"})
#: What joins a removed tag to the title: dropped where the tag opened or ended the title.
_SEPARATORS = " \t:|-\u2013\u2014"
#: What may follow a tag taken from a title's middle without a space before it.
_CLOSING_MARKS = ".,;:!?)"


def untagged(title: str, final: Priority) -> tuple[str, int]:
    """`title` without its priority tags (the rule's fourth part), the text either side joined
    by one space (none before a full stop, the separators of one that opened or ended the
    title dropped); and how many of them named another priority than the ticket's `final`.
    A title of tags alone is empty: the caller writes another. A bracket holding anything
    else ("[FIRING:1]", "[web-1]", "[1]", "[Media]": a word of another language names a
    component as often as a priority, except in `_CJK_BRACKETS`) is left as written. A
    priority marker opening the title (`_unmarked`: "🔴 CRITICAL: …", as Slack's header
    writes the ticket's own) is a tag too; markers and tags stacked at its start all go."""
    contradicting = 0
    while True:
        rest, named = _unmarked(title)
        rest, tags = _untagged_once(rest, final)
        contradicting += tags + sum(stated is not final for stated in named)
        if rest == title:
            return title, contradicting
        title = rest


#: An upper-case P- or SEV-level opening a title with only a space after it ("P1 Checkout …").
_BARE_LEAD = re.compile(r"[ \t]*(?P<level>(?:P|SEV|Sev)[ _-]?\d)[ \t]{1,3}(?=[^\W\d_])")


def unprefixed(title: str, own: str, final: Priority) -> tuple[str, int]:
    """`title` (the model's) without an upper-case level opening it with only a space after
    it that the alert's own title `own` does not hold ("P1 Checkout …" over "Checkout …":
    the model put a priority beside the ticket's); and 1 when it named another priority than
    `final`. `untagged` leaves such a level, as an alert's title may open with one as a word
    ("P0 latency budget spent"): here the alert's title says whether it is one."""
    match = _BARE_LEAD.match(title)
    if match is None or match["level"].casefold() in own.casefold():
        return title, 0
    stated = priority(match["level"])
    if stated is None:  # past the scale ("P7"): no priority, and no tag
        return title, 0
    return title[match.end() :], int(stated is not final)


def _untagged_once(title: str, final: Priority) -> tuple[str, int]:
    """`untagged` without the leading markers: one pass over `title`'s tags."""
    kept: list[str] = []
    contradicting = 0
    last = 0
    verbatim = _Verbatim(title)
    for match in _TAG.finditer(title):
        stated = _tagged(match)
        if stated is None or not _a_tag(match, title, verbatim):
            continue
        kept.append(title[last : match.start()])
        last = match.end()
        contradicting += stated is not final
    if not kept:
        return title, 0
    joined = kept[0]
    for piece in [*kept[1:], title[last:]]:
        joined = _joined(joined, piece)
    return joined, contradicting


#: The marks Slack's header writes before the ticket's priority (`sinks/slack.py`), and the
#: emoji codes Slack draws as them (`:red_circle:`, `:large_orange_circle:`…).
_MARKS = {
    "\N{LARGE RED CIRCLE}": Priority.CRITICAL,
    "\N{LARGE ORANGE CIRCLE}": Priority.HIGH,
    "\N{LARGE YELLOW CIRCLE}": Priority.MEDIUM,
    "\N{LARGE BLUE CIRCLE}": Priority.LOW,
}
_MARK_CODES = {"red": Priority.CRITICAL, "orange": Priority.HIGH, "yellow": Priority.MEDIUM,
               "blue": Priority.LOW}  # fmt: skip
#: A mark opening a title: the emoji (a variation selector after it) or its code.
_LEADING_MARK = re.compile(
    rf"(?:(?P<emoji>[{''.join(_MARKS)}])\ufe0f?|:(?:large_)?(?P<code>red|orange|yellow|blue)"
    r"_circle:)[ \t]*"
)
#: A priority word or level opening a title (after a mark, or alone), and what follows it: a
#: separator, or after a mark also a space.
_LEADING_WORD = re.compile(
    rf"(?P<word>{_LEVEL}|[^\W\d_]{{1,16}})(?:(?P<separator>{_LEAD_SEPARATOR})|(?=[ \t]|\Z))[ \t]*",
    re.IGNORECASE,
)
#: The words Slack's header writes as a priority ("CRITICAL:"): alone, with a separator after
#: them, they open a title as a tag; any other priority word does only after a mark.
_HEADER_WORDS = frozenset(p.value for p in Priority)


def _unmarked(title: str) -> tuple[str, list[Priority]]:
    """`title` without the priority markers opening it, and the priority each named: a mark
    of Slack's header (`🔴`, `:red_circle:`) with a priority word or level after it or
    none ("🔴 CRITICAL: …", "🔴 P0 …", "🔴 …"), or one of the header's words or a level with
    a separator ("CRITICAL: …", "P0: …"). Slack would show "🔵 LOW: 🔴 CRITICAL: …" and
    GitHub "[P3] CRITICAL: …": the title would state a second priority beside the ticket's.
    Characters that show nothing before a marker (`common.showing`) do not hide it, nor do
    the title's own emoji (`_past_emoji`: "🚨 CRITICAL: …" is "🚨 …"; the emoji names no
    priority and stays), nor full-width letters (`_leading_word`: `CRITICAL:` written U+FF23…)."""
    named: list[Priority] = []
    while True:
        start = _blank_start(title)
        own = _past_emoji(title, start)
        at = _blank_start(title, own)
        mark = _LEADING_MARK.match(title, at)
        if mark is not None:
            at = mark.end()
        word = _leading_word(title, at)
        stated = priority(word[0]["word"]) if word and _marker_word(word[0], mark) else None
        if mark is None and stated is None:
            return title, named
        if stated is not None and word is not None:
            at = word[1]
        elif mark is not None:  # a mark alone names the priority of its colour
            stated = _MARKS[mark["emoji"]] if mark["emoji"] else _MARK_CODES[mark["code"]]
        if stated is not None:
            named.append(stated)
        kept, rest = title[start:own], title[at:].lstrip(_SEPARATORS)
        title = f"{kept} {rest}" if kept and rest else kept or rest


#: Slack's code for an emoji (`:rotating_light:`), which Slack and GitHub draw as the emoji.
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]{1,40}:")
#: What is part of an emoji beside its symbol: variation selectors, the zero-width joiner,
#: the keycap, skin tones and the tags of a subdivision's flag.
_EMOJI_PARTS = re.compile("[\ufe00-\ufe0f\u200d\u20e3🏻-🏿󠀠-󠁿]")


def _past_emoji(text: str, at: int) -> int:
    """Where the emoji opening `text` at `at` end, `at` itself when there are none: symbols
    (Unicode's other symbols, so any emoji) with their parts (`_EMOJI_PARTS`) and Slack's
    codes, blanks between them; not Slack's header marks (`_LEADING_MARK`), which name a
    priority and are taken out, nor any ASCII sign."""
    end = at
    while at < len(text):
        if _LEADING_MARK.match(text, at):
            break
        ch = text[at]
        code = _EMOJI_CODE.match(text, at) if ch == ":" else None
        if code is not None:
            at = end = code.end()
        elif not ch.isascii() and (unicodedata.category(ch) == "So" or _EMOJI_PARTS.match(ch)):
            at = end = at + 1
        elif showing(ch) is None:  # a space or a blank between two emoji
            at += 1
        else:
            break
    return end


#: How far into a title a marker's word reaches: a level or 16 letters, a separator, spaces.
_WORD_REACH = 64


def _leading_word(text: str, at: int) -> tuple[re.Match[str], int] | None:
    """`_LEADING_WORD` matched at `at` in `text` as Unicode folds it (NFKC: `CRITICAL:` in
    full-width letters, U+FF23…, is `CRITICAL:`, which it reads as), and where the match ends in
    `text`; None when it does not match."""
    head = text[at : at + _WORD_REACH]
    if head.isascii():
        found = _LEADING_WORD.match(head)
        return (found, at + found.end()) if found else None
    folded, origins = _folded(head)
    found = _LEADING_WORD.match(folded)
    if found is None:
        return None
    end = found.end()
    origin = origins[end]
    if 0 < end < len(folded) and origins[end - 1] == origin:  # inside one character's fold
        origin += 1
    return found, at + origin


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` with each character folded on its own (NFKC), and for each folded character
    (and the end) where in `text` it came from."""
    parts: list[str] = []
    origins: list[int] = []
    for n, ch in enumerate(text):
        form = unicodedata.normalize("NFKC", ch)
        parts.append(form)
        origins += [n] * len(form)
    origins.append(len(text))
    return "".join(parts), origins


def _marker_word(word: re.Match[str], mark: re.Match[str] | None) -> bool:
    """Whether a `_LEADING_WORD` match is part of a marker: one of the header's words or a
    level with a separator after it ("CRITICAL: …", "P0: …", as a title's tag reads it);
    after a mark, any priority word with one ("🔴 Urgent: …"), a level ("🔴 P0 …") or a
    header's word as the header writes it ("🔴 CRITICAL …"). Not a word that only opens the
    text ("🔴 High CPU on db-1", "🔴 Major outage"): the title's."""
    text = word["word"]
    level = _P_OR_SEV.fullmatch(text) is not None
    if word["separator"] is not None:
        return mark is not None or level or text.casefold() in _HEADER_WORDS
    header_word = text.isupper() and text.casefold() in _HEADER_WORDS
    return mark is not None and (header_word or level)


def _blank_start(text: str, at: int = 0) -> int:
    """Where `text` starts to show something from `at` (`common.showing`): past spaces, the
    blank Braille pattern, a Hangul filler."""
    while at < len(text) and showing(text[at]) is None:
        at += 1
    return at


def _tagged(match: re.Match[str]) -> Priority | None:
    """The priority a `_TAG` match names, or None when it is no priority tag (brackets that
    do not pair, a word in parentheses, a word that names no priority)."""
    level = match["lead"] or match["tail"]
    if level is not None:
        return priority(level)  # None past the scale ("P7")
    opener, value = match["open"], match["value"]
    if not value.isascii():  # full-width CRITICAL (U+FF23…) reads as it
        value = unicodedata.normalize("NFKC", value)
    if _BRACKETS[opener] != match["close"]:
        return None
    if _P_OR_SEV.fullmatch(value):
        return priority(value)
    if opener in _PARENTHESES and match["key"] is None:
        return None
    if value.casefold() in _TAG_SEVERITIES:
        return SEVERITY_PRIORITY[value.casefold()]
    return word_priority(value) if opener in _CJK_BRACKETS else priority(value)


def _a_tag(match: re.Match[str], text: str, verbatim: _Verbatim) -> bool:
    """Whether a `_TAG` match in `text` is a tag: not inside a link or code, and no level
    ending a line that is a statement's value ("Severity: P2", which `agreeing` reads)."""
    if verbatim.holds(_where(match)):
        return False
    if match["tail"] is None:
        return True
    start = text.rfind("\n", 0, match.start()) + 1
    line = text[start : match.end()]
    at = match.start("tail") - start
    return not any(m.start("value") == at for m in _STATEMENT.finditer(line))


def _where(match: re.Match[str]) -> int:
    """Where a `_TAG` match's tag starts: its opening bracket, or its level."""
    for group in ("open", "lead", "tail"):
        if match[group] is not None:
            return match.start(group)
    return match.start()


def _joined(left: str, right: str) -> str:
    """The text before a removed tag and the text after it, as one title."""
    left, right = left.rstrip(), right.lstrip()
    if not left:
        return right.lstrip(_SEPARATORS)
    if not right:
        return left.rstrip(_SEPARATORS)
    return left + right if right[0] in _CLOSING_MARKS else f"{left} {right}"


# --- links and code are verbatim -----------------------------------------------------------------

#: What is part of a link or of code, where no statement or tag is one: a fenced code block,
#: inline code, a URL with a scheme or a host and a path ("runbooks.example.com/x?…"), a
#: Markdown link's target and a path after a space ("/runbooks/x?priority=critical"). Each
#: part is bounded and none nests, so finding them is linear.
_VERBATIM = re.compile(
    r"(?:^|(?<=\n))[ \t]{0,3}(?P<fence>`{3,}|~{3,})[^\n]{0,200}(?:\n.{0,100000}?)??"
    r"(?:\n[ \t]{0,3}(?P=fence)|\Z)"
    r"|``(?:[^`\n]|`(?!`)){1,2000}``|`[^`\n]{1,2000}`"
    r"|\b[a-z][a-z0-9+.-]{1,16}://\S{1,4096}"
    r"|(?<![\w@.-])(?:[a-z0-9-]{1,63}\.){1,10}[a-z]{2,24}(?::\d{1,5})?[/?#]\S{0,4096}"
    r"|\]\([^)\n]{0,4096}\)"
    r"|(?<![^\s(<\[\"'])/[\w.~%-]{0,256}[/?#]\S{0,4096}",
    re.IGNORECASE | re.DOTALL,
)


class _Verbatim:
    """Where a text's links and code are (`_VERBATIM`), found once, only when asked about."""

    __slots__ = ("_ends", "_starts", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def holds(self, at: int) -> bool:
        """Whether the character at `at` is inside a link or code."""
        if self._starts is None:
            spans = [m.span() for m in _VERBATIM.finditer(self._text)]
            self._starts = [start for start, _ in spans]
            self._ends = [end for _, end in spans]
        i = bisect.bisect_right(self._starts, at) - 1
        return i >= 0 and at < self._ends[i]
