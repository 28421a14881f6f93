"""Reading the model's answer into a `TicketDraft`, as models actually write it.

Structured output makes most answers one clean JSON object, but not every server enforces it
(Ollama and older vLLM ignore `json_schema`; Bedrock has none), and small models then answer in
near misses: prose before or after the object, a fence that is not at the start, a comma before
a closing bracket, "High", "P1", "**high**" or "hoch" for a priority, the steps as one string, a
description as a list of paragraphs, a key of their own, a field under another name (`summary`,
`next_steps`, `actions`, `remediation`, `severity`, `urgency`), the ticket's JSON inside a JSON
string (alone or quoted in prose) or escaped as one's inside but written bare (`{\\"title\\":
…}`), JSON with `//` comments, a Python dict's repr (single quotes, True, None), more steps or
text than a ticket holds, half a UTF-16 pair ("\\ud800") in a text, the ticket written as YAML
(fenced or bare `key: value` lines, `answer_yaml.py`; refused as `AmbiguousAnswer` when its
ticket is not plain). Each is read here as the ticket it plainly is, instead of throwing the
whole answer away for the deterministic ticket.
What the contract cannot read (no object at all, a missing description or steps, fields of
another type, prose, a refusal, an object without a ticket's fields) stays invalid, and
`contain()` still checks whatever is read, exactly as it checks a clean answer.
Steps and paragraphs are read only as far as a ticket holds them: a server's answer of millions
costs no more than its JSON's parse. Two choices are deliberate: a key written twice is read as
JSON's parsers read it, the last one winning (whatever the reading: JSON, a Python dict, a key
in another case), so the ticket says what any other reader of the answer sees; and of two
tickets in one answer, a fenced one is the answer, else the first (what follows is a remark).
A ticket the alert's own text holds as JSON (`quoted_tickets`: "the ticket is {"title": …}")
is never the answer: the model quoting it is passed over for its own, and an answer holding
only it is the alert obeyed (`EchoedAnswer`).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import chain, islice
from typing import Any, TypeVar

from triage.models import Priority
from triage.normalize.common import cut, priority, showing
from triage.summarise.answer_yaml import AmbiguousAnswer as AmbiguousAnswer
from triage.summarise.answer_yaml import ticket_fields
from triage.summarise.base import DESCRIPTION_CHARS, MAX_STEPS, STEP_CHARS, TITLE_CHARS
from triage.summarise.priority import unlabelled, word_priority
from triage.summarise.prompt import TicketDraft

#: A reasoning model's thoughts before its answer, when no reasoning parser removed them.
_THINKING = re.compile(r"\A\s*<think>.*?</think>", re.DOTALL)
#: A fenced block anywhere in the text (```json … ```), its inside captured.
_FENCED = re.compile(r"```[A-Za-z]*[ \t]*\n(.*?)\n?```", re.DOTALL)
#: How many `{` a prose answer's object is looked for at, and how many JSON strings opening
#: with one its twice-encoded ticket: each try parses from there.
_STARTS = 8
#: The longest answer read at all. A ticket is a few KB and a model's output is capped at a
#: few thousand tokens, so only a broken or hostile server sends more; reading it is CPU on
#: the event loop (json and re hold the GIL, so a worker thread would not free the loop),
#: and this much costs about a millisecond at most. The summariser refuses a longer one
#: unread (`answer_too_large`).
MAX_ANSWER_CHARS = 256 * 1024
#: The longest answer searched for its JSON beyond one parse (eight tries from a `{`).
_LENIENT_CHARS = MAX_ANSWER_CHARS
#: The keys of a ticket: an object with none of them is not the answer.
_CONTRACT_KEYS = frozenset({"title", "priority", "description", "steps"})
#: A step list written as one string: one step per line, a list marker ("1.", "-") dropped.
_STEP_MARK = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")
#: Half a UTF-16 pair, alone: JSON writes it ("\ud800"), but it is no character, no sink can
#: encode it, and pydantic refuses a string holding one.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def blank(text: str) -> bool:
    """Whether `text` shows nothing once displayed (`common.showing`): whitespace, controls,
    default-ignorable characters (a BOM, a zero-width space, a bidi override, tags) and
    fillers that draw nothing (Hangul fillers, the blank Braille pattern) only. Such an
    answer is no answer, named as one, not JSON that failed to parse."""
    return showing(text) is None


def unanswered(text: str) -> bool:
    """Whether a model's answer `text` holds nothing but its thinking (`<think>…</think>`,
    as `_json_object` drops it) and what shows nothing (`blank`)."""
    return blank(_THINKING.sub("", text, count=1) if "<think>" in text[:64] else text)


def draft(text: str, quoted: frozenset[tuple[str, str]] = frozenset()) -> TicketDraft:
    """The ticket in the model's answer `text`. Raises ValueError when it holds no JSON
    object (json.JSONDecodeError) and pydantic's ValidationError when the object is no
    ticket, however leniently read; RecursionError for JSON nested past the parser's stack.

    A ticket the alert's own text holds (`quoted`, `quoted_tickets`) is the alert's words,
    not the model's: an answer quoting it before its own ticket is read as its own, and one
    holding no ticket but it raises `EchoedAnswer`."""
    return TicketDraft.model_validate(_fields(_json_object(text, quoted)))


class EchoedAnswer(ValueError):
    """The answer's only ticket is one the alert's text holds, written by whoever sent the
    alert ("the ticket is {"title": "All clear", "priority": "low", …}"): a model answering
    with it obeyed the alert."""


def quoted_tickets(texts: Iterable[str], escaped: str = "") -> frozenset[tuple[str, str]]:
    """The tickets the alert's `texts` (its title, description and labels, as the model saw
    them) hold as JSON objects, and its raw payload's excerpt (`escaped`) holds escaped in a
    string, as `_ticket_key`s: what the alert asked the model to answer with. A text holding
    no `{` holds none (most alerts: nothing is parsed)."""
    found: set[tuple[str, str]] = set()
    for text in texts:
        if "{" in text:
            found.update(_ticket_key(one) for one in _objects(text) if _ticket_like(one))
            found.update(_ticket_key(one) for one in _escaped_tickets(text))
        if ":" in text and "\n" in text:
            found.update(_ticket_key(one) for one in _yaml_tickets(text))
    if '\\"' in escaped and "{" in escaped:
        found.update(_ticket_key(one) for one in _escaped_tickets(escaped))
    # An object of a ticket's keys but no title and no description (a form's `steps`) is no
    # ticket an answer could echo: an answer without both is refused as invalid anyway.
    found.discard(("", ""))
    return frozenset(found)


def _yaml_tickets(text: str) -> Iterator[dict[str, Any]]:
    """The tickets `text` writes as YAML (`ticket_fields`), in its fenced blocks and bare
    after its prose; YAML whose ticket is not plain holds none a model's answer could be
    read as."""
    for block in (*(fenced[1] for fenced in islice(_FENCED.finditer(text), _STARTS)), text):
        try:
            fields = ticket_fields(block, _role_of)
        except AmbiguousAnswer:
            continue
        if fields is not None:
            yield fields


def _ticket_key(found: Any) -> tuple[str, str]:
    """A ticket-like object's title and description as the answer's would be read
    (`_fields`), as their words alone in one case: an echo written with other spacing, case
    or punctuation ("ALL CLEAR!", a dash for a semicolon) is the same ticket."""
    fields = _fields(found)
    if not isinstance(fields, dict):
        return ("", "")
    title, description = fields.get("title"), fields.get("description")
    return (
        " ".join(_KEY_WORD.findall(str(title or "").casefold())),
        " ".join(_KEY_WORD.findall(str(description or "").casefold())),
    )


#: The fewest words of a description the alert's ticket holds that make an answer with it
#: an echo whatever its title: "OK" or "Disk full" may be anyone's words.
_ECHO_WORDS = 3
#: A word of a ticket's key (`_ticket_key`): letters and digits, marks between them dropped.
_KEY_WORD = re.compile(r"[^\W_]+")


#: The model declining, in the first person, at the start of what it wrote ("I'm sorry, but I
#: can't help with that", "I am unable to provide …", "As an AI language model, …"). A ticket
#: quoting such words ("Users see: I'm sorry, …") does not start with them, and a ticket
#: speaks of a service ("We cannot process payments"), never as "I".
_DECLINED = re.compile(
    r"""
    \A[\W_]{0,4}
    (?:
      (?:(?:I['\u2019]m|I\s{1,4}am)\s{1,4}(?:(?:very|so|truly)\s{1,4})?(?:sorry|afraid)
        |sorry|(?:my\s{1,4})?apologies|I\s{1,4}apologi[sz]e|unfortunately)
      [\s,;:.!-]{1,6}(?:but\s{1,4})?
    )?
    I
    (?:
      (?:\s{1,4}am|['\u2019]m)\s{1,4}(?:not\s{1,4}(?:able|allowed|permitted)|unable)\s{1,4}to
      | \s{1,4}(?:can(?:not|['\u2019]t|\s{1,4}not)|won['\u2019]t|will\s{1,4}not)
        (?:\s{1,4}be\s{1,4}able\s{1,4}to)?
    )
    \s{1,4}
    (?:help|assist|comply|fulfil+|provide|complete|process|create|write|generate|produce
      |summari[sz]e|answer|respond|support|engage|continue|perform|do\s{1,4}(?:that|this))\b
    | \A[\W_]{0,4}(?:I\s{1,4}(?:must|have\s{1,4}to)\s{1,4}(?:respectfully\s{1,4})?decline
      |as\s{1,4}an\s{1,4}AI)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
#: A title that is a refusal and nothing else ("Request declined", "Unable to assist").
_DECLINED_TITLE = re.compile(
    r"""
    \A[\W_]{0,4}
    (?:(?:request|task)\s{1,4}(?:declined|refused)|refusal|declined
      |(?:unable|cannot|can['\u2019]t)\s{1,4}(?:to\s{1,4})?(?:help|assist|comply)
        (?:\s{1,4}with\s{1,4}(?:this|that|the|your)\s{1,4}request)?)
    [\W_]{0,4}\Z
    """,
    re.IGNORECASE | re.VERBOSE,
)


#: The same refusals in the languages a model answers an alert written in them in: Spanish,
#: Portuguese, French, German, Italian and Dutch ("Lo siento, pero no puedo ayudar …", "Es
#: tut mir leid, aber dabei kann ich nicht helfen"). The model itself ("I", "je", "ich" …)
#: must be what cannot help, so a service that cannot do something is no refusal.
_DECLINED_ABROAD = re.compile(
    r"""
    \A[\W_]{0,4}
    (?:
      (?:(?:lo\s{1,4}siento|lamentablemente|disculp[ae]|me\s{1,4}temo\s{1,4}que)
        [\s,;:.!-]{1,6}(?:pero\s{1,4})?)?
      no\s{1,4}puedo\s{1,4}(?:ayudar|asistir|cumplir|procesar|crear|generar|resumir|redactar
        |escribir|completar|hacer\s{1,4}eso)
    | (?:(?:desculp[ae]|sinto\s{1,4}muito|infelizmente|lamento)[\s,;:.!-]{1,6}(?:mas\s{1,4})?)?
      n[\u00e3a]o\s{1,4}posso\s{1,4}(?:ajudar|auxiliar|cumprir|processar|criar|gerar|resumir
        |escrever|completar|fazer\s{1,4}isso)
    | (?:(?:je\s{1,4}suis\s{1,4}d[\u00e9e]sol[\u00e9e]e?|d[\u00e9e]sol[\u00e9e]e?|malheureusement
        |je\s{1,4}regrette)[\s,;:.!-]{1,6}(?:mais\s{1,4})?)?
      je\s{1,4}ne\s{1,4}(?:peux|suis)\s{1,4}pas\s{1,4}(?:en\s{1,4}mesure\s{1,4}d['\u2019e]\s{0,4})?
      (?:vous\s{1,4}|t['\u2019]\s{0,4})?(?:aider|assister|r[\u00e9e]pondre|traiter|cr[\u00e9e]er
        |g[\u00e9e]n[\u00e9e]rer|r[\u00e9e]sumer|r[\u00e9e]diger|[\u00e9e]crire|faire\s{1,4}cela)
    | (?:(?:es\s{1,4}tut\s{1,4}mir\s{1,4}leid|entschuldigung|leider)[\s,;:.!-]{1,6}
        (?:aber\s{1,4})?)?
      (?:(?:dabei|damit|hierbei|hier|das)\s{1,4})?(?:ich\s{1,4}kann|kann\s{1,4}ich)\s{1,4}
      (?:(?:ihnen|dir|euch|dabei|damit|hierbei|hier|das|leider)\s{1,4}){0,3}nicht\s{1,4}
      (?:(?:dabei|damit|weiter)\s{1,4})?(?:helfen|behilflich|nachkommen|bearbeiten|erstellen
        |schreiben|zusammenfassen|erf\u00fcllen)
    | (?:(?:mi\s{1,4}dispiace|purtroppo|spiacente)[\s,;:.!-]{1,6}(?:ma\s{1,4})?)?
      non\s{1,4}posso\s{1,4}(?:aiutar\w{0,4}|assister\w{0,4}|soddisfare|elaborare|creare
        |generare|riassumere|scrivere)
    | (?:(?:het\s{1,4}spijt\s{1,4}me|sorry|helaas)[\s,;:.!-]{1,6}(?:maar\s{1,4})?)?
      ik\s{1,4}kan\s{1,4}(?:(?:je|u|jullie|daar|hier|hiermee|daarmee|dit|dat)\s{1,4}){0,3}
      niet\s{1,4}(?:mee\s{1,4}|bij\s{1,4})?(?:helpen|assisteren|verwerken|maken|schrijven
        |samenvatten)
    )\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
#: A title that is a refusal in those languages ("Solicitud rechazada", "Anfrage abgelehnt").
_DECLINED_TITLE_ABROAD = re.compile(
    r"""
    \A[\W_]{0,4}
    (?:(?:solicitud|petici[\u00f3o]n)\s{1,4}rechazada|(?:solicita[\u00e7c][\u00e3a]o|pedido)
      \s{1,4}recusad[ao]|(?:demande|requ[\u00eae]te)\s{1,4}refus[\u00e9e]e|anfrage\s{1,4}abgelehnt
      |richiesta\s{1,4}rifiutata|verzoek\s{1,4}geweigerd)
    [\W_]{0,4}\Z
    """,
    re.IGNORECASE | re.VERBOSE,
)


def refusal(ticket: TicketDraft) -> bool:
    """Whether `ticket` is the model declining to write one: a model made to answer in the
    ticket's JSON (structured output) refuses inside it, with a title or description that
    says so, in English or another language it answers in (`_DECLINED_ABROAD`). Read as a ticket, its words would be published and its priority (often `low`)
    would move the alert's."""
    return any(
        pattern.search(text) is not None
        for pattern, text in (
            (_DECLINED, ticket.title),
            (_DECLINED_TITLE, ticket.title),
            (_DECLINED, ticket.description),
            (_DECLINED_ABROAD, ticket.title),
            (_DECLINED_TITLE_ABROAD, ticket.title),
            (_DECLINED_ABROAD, ticket.description),
        )
    )


def _json_object(text: str, quoted: frozenset[tuple[str, str]] = frozenset()) -> Any:
    """The JSON the model answered: the whole text once a <think>…</think> block is gone (as
    reasoning models served without a reasoning parser write, DeepSeek-R1, Qwen3), else the
    first fenced block, else the first object that parses from a `{` in the text (a model
    that wrote "Here is the ticket:" before it or a remark after it), else the ticket written
    with comments or as a Python dict (`_relaxed`). A ticket encoded twice (one JSON string
    holding its JSON) is read once more."""
    echoes: list[Any] = []
    # A description the alert's ticket holds, of a few words at least, is its alone: under a
    # title of the model's own it is still the alert's words answered with.
    descriptions = {d for _, d in quoted if len(d.split()) >= _ECHO_WORDS}

    def own(found: Any) -> Any:
        """`found`, or None when it is a ticket the alert holds (`quoted`), noted in `echoes`."""
        if not quoted or not isinstance(found, dict) or not _ticket_like(found):
            return found
        key = _ticket_key(found)
        if key in quoted or key[1] in descriptions:
            echoes.append(found)
            return None
        return found

    text = _THINKING.sub("", text, count=1).strip()
    try:
        whole = _unquoted(_lenient(json.loads, text))
    except json.JSONDecodeError as exc:
        first_error = exc
    else:
        if own(whole) is None and echoes:
            raise EchoedAnswer("the answer is a ticket the alert holds")
        return whole
    if len(text) > _LENIENT_CHARS:
        raise first_error  # no model writes that much around a ticket: not searched
    fenced = _FENCED.search(text)
    if fenced is not None:
        try:
            inside = _unquoted(_lenient(json.loads, fenced[1]))
        except json.JSONDecodeError:
            loose = (
                next(_escaped_tickets(fenced[1]), None)
                or _relaxed(fenced[1])
                or ticket_fields(fenced[1], _role_of)
            )
            if loose is None:
                raise
            inside = loose
        if own(inside) is not None:
            return inside
        # The fenced ticket is the alert's: the model's own, if any, is elsewhere.
    objects = _objects(text)
    first = next(objects, None)
    # An object the model quoted before its ticket (one the alert asked it to write, a piece
    # of the payload) is passed over for the ticket after it.
    found = chain([first], objects) if first is not None else iter(())
    ticket = next((one for one in found if _ticket_like(one) and own(one) is not None), None)
    if ticket is None:
        ticket = next((one for one in _quoted_tickets(text) if own(one) is not None), None)
    if ticket is None:
        ticket = next((one for one in _escaped_tickets(text) if own(one) is not None), None)
    if ticket is None:
        ticket = own(_relaxed(text))
    if ticket is None:
        try:
            ticket = own(ticket_fields(text, _role_of))  # the ticket as YAML, bare
        except AmbiguousAnswer:
            if echoes:  # the fence around the alert's YAML ticket is what is not plain
                raise EchoedAnswer("the answer's only ticket is one the alert holds") from None
            raise
    if ticket is not None:
        return ticket
    if echoes:
        raise EchoedAnswer("the answer's only ticket is one the alert holds")
    if first is None:
        raise first_error
    return first


#: How many times a JSON string holding a ticket's JSON is read again ("{\"title\": …}").
_QUOTED_LEVELS = 2


def _unquoted(found: Any) -> Any:
    """`found`, or, when it is a string holding a JSON object (a ticket encoded twice), or a
    JSON string holding one (three times), that object; a string that does not parse stays as
    it is, for validation to refuse."""
    for _ in range(_QUOTED_LEVELS):
        if not isinstance(found, str) or not found.lstrip().startswith(("{", '"')):
            return found
        try:
            found = _lenient(json.loads, found)
        except json.JSONDecodeError:
            return found
    return found


#: Where a JSON string holding an object opens, in prose: `"{` (encoded twice) or `"\"{`
#: (three times), a few spaces allowed before the brace. Bounded, so finding them is linear.
_QUOTED_OBJECT = re.compile(r'"(?:\\")?\s{0,8}\{')


def _quoted_tickets(text: str) -> Iterator[dict[str, Any]]:
    """The tickets held by the first `_STARTS` JSON strings in `text` that open with an object
    (`Here you go: "{\"title\": …}"`, a ticket encoded twice inside prose). Each string is
    read by json's own scanner from its opening quote, in one pass, and then read once more
    (`_unquoted`); a string that holds no ticket-like object is passed over."""
    decoder = json.JSONDecoder()
    for opening in islice(_QUOTED_OBJECT.finditer(text), _STARTS):
        try:
            quoted, _end = decoder.raw_decode(text, opening.start())
        except json.JSONDecodeError:
            continue
        found = _unquoted(quoted)
        if isinstance(found, dict) and _ticket_like(found):
            yield found


#: Where an object escaped as a JSON string's inside opens, bare in prose: a `{` and then an
#: escaped quote (`{\"title\"`, `{\\\"title\\\"` escaped twice), a few spaces or escaped
#: line breaks between (pretty-printed, then escaped). Bounded, so finding them is linear.
_ESCAPED_OBJECT = re.compile(r'\{(?:\s|\\[nrt]){0,8}\\{1,3}"')
#: A JSON string's escape of one character; `\uXXXX` is left for the parse, which reads a
#: surrogate pair as the one character it is.
_ESCAPE = re.compile(r'\\(["\\/bfnrt])')
_UNESCAPED = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
#: How much of the text after an escaped object's `{` is unescaped and parsed: more than a
#: ticket's fields hold escaped twice, so a hostile server's megabyte costs no more.
_ESCAPED_CHARS = 32 * 1024


def _escaped_tickets(text: str) -> Iterator[dict[str, Any]]:
    """The tickets escaped as a JSON string's inside but written without its quotes, bare in
    prose (`Here: {\\"title\\": \\"x\\", …}`), at the first `_STARTS` places one opens: the
    `_ESCAPED_CHARS` after each unescaped once (twice when once is not JSON yet) and parsed
    from the `{`, so the prose after the object is never read; an object that is no ticket
    is passed over."""
    decoder = json.JSONDecoder(strict=False)  # a line break escaped once too few is kept
    for opening in islice(_ESCAPED_OBJECT.finditer(text), _STARTS):
        body = text[opening.start() : opening.start() + _ESCAPED_CHARS]
        for _ in range(_QUOTED_LEVELS):
            body = _ESCAPE.sub(lambda m: _UNESCAPED.get(m[1], m[1]), body)
            try:
                found, _end = _lenient(partial(decoder.raw_decode, idx=0), body)
            except json.JSONDecodeError:
                continue  # escaped once more: unescaped again
            if isinstance(found, dict) and _ticket_like(found):
                yield found
            break


#: The longest ticket read with comments or as a Python dict: more than a ticket's fields hold
#: (a title, 4,000 characters of description, 8 steps of 300), and little enough that reading
#: it costs a millisecond or so, whatever a hostile server writes.
_RELAXED_CHARS = 8 * 1024


def _relaxed(text: str) -> dict[str, Any] | None:
    """The ticket between the first `{` and the last `}` of `text`, written as JSON with `//`
    and `/* */` comments (JavaScript's habit) or as a Python dict (single quotes, True, None:
    `ast.literal_eval` reads literals only and runs nothing); None when neither reads as a
    ticket-like object, so prose, a refusal or an object of reasons stays no ticket."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start or end - start >= _RELAXED_CHARS:
        return None
    body = text[start : end + 1]
    for read in (_uncommented, _python_literal):
        try:
            found = read(body)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue  # json's and ast's errors for text they cannot read
        if isinstance(found, dict) and _ticket_like(found):
            return found
    return None


#: JSON with comments, as a whole: strings, comments and runs of other text, every quantifier
#: possessive, so checking it is linear; text with a string or comment never closed, or a `/`
#: of no comment, does not match to its end.
_COMMENTED_JSON = re.compile(
    r'(?:"(?:[^"\\]|\\.)*+"|//[^\n]*+|/\*(?:[^*]|\*(?!/))*+\*/|[^"/]++)*+', re.DOTALL
)
#: A string (kept) or a comment (dropped), in text `_COMMENTED_JSON` matched whole.
_STRING_OR_COMMENT = re.compile(
    r'("(?:[^"\\]|\\.)*+")|//[^\n]*+|/\*(?:[^*]|\*(?!/))*+\*/', re.DOTALL
)


def _uncommented(body: str) -> Any:
    """`body` parsed as JSON once its comments are dropped; ValueError when it has none or is
    no JSON with comments."""
    if "/" not in body:
        raise ValueError("no comment")
    matched = _COMMENTED_JSON.match(body)
    if matched is None or matched.end() != len(body):
        raise ValueError("a string or comment never closed")
    return _lenient(json.loads, _STRING_OR_COMMENT.sub(lambda m: m[1] or " ", body))


#: What only Python's spelling of a dict holds: a single quote, or its constants.
_PYTHON_SPELLING = re.compile(r"'|\b(?:True|False|None)\b")


#: The most commas a Python-spelled ticket is read with: its prose's and its fields' (a few
#: dozen). `literal_eval` converts each item in Python code, so a hostile server's thousands
#: would cost milliseconds.
_PYTHON_COMMAS = 256


def _python_literal(body: str) -> Any:
    """`body` read as a Python literal, when it is spelled as one and small enough to be a
    ticket; ValueError otherwise."""
    if _PYTHON_SPELLING.search(body) is None:
        raise ValueError("not spelled as Python")
    if body.count(",") > _PYTHON_COMMAS:
        raise ValueError("more items than a ticket holds")
    return ast.literal_eval(body)


def _objects(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects that parse from the first `_STARTS` `{` in `text`, in order."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(_STARTS):
        if start < 0:
            return
        try:
            found, _end = _lenient(partial(decoder.raw_decode, idx=start), text)
        except json.JSONDecodeError:
            found = None
        if isinstance(found, dict):
            yield found
        start = text.find("{", start + 1)


_Parsed = TypeVar("_Parsed")

#: The longest text whose trailing commas are dropped (a ticket's JSON is a few KB), and how
#: many: each drop is one more parse, so a hostile answer of commas costs a few parses at most.
_REPAIR_CHARS = 32 * 1024
_REPAIRS = 8


def _lenient(parse: Callable[[str], _Parsed], text: str) -> _Parsed:
    """`parse(text)`, with a comma right before a closing bracket dropped wherever the parser
    stops at one (`["a",]`, `{"a": 1,}`: JavaScript's habit, and small models'). The parser
    says where it stopped, so a comma inside a string is never touched."""
    for _ in range(_REPAIRS):
        try:
            return parse(text)
        except json.JSONDecodeError as exc:
            repaired = _comma_dropped(text, exc.pos) if len(text) <= _REPAIR_CHARS else None
            if repaired is None:
                raise
            text = repaired
    return parse(text)


def _comma_dropped(text: str, stop: int) -> str | None:
    """`text` without the comma before `stop`, when the parser stopped at a closing bracket
    that follows one (spaces between); None otherwise."""
    if text[stop : stop + 1] not in ("]", "}"):
        return None
    before = text[:stop].rstrip()
    return before[:-1] + text[stop:] if before.endswith(",") else None


def _ticket_like(found: dict[str, Any]) -> bool:
    """Whether an object holds a ticket's fields, itself or wrapped in one key: one of the
    contract's keys, or steps under another name (an alert's annotations, `summary` and
    `severity`, are no ticket)."""
    keys = {_key(key) for key in found}
    if keys & _CONTRACT_KEYS or any(_ROLES.get(key) == "steps" for key in keys):
        return True
    return _wrapped(found) is not None


def _wrapped(found: dict[str, Any]) -> dict[str, Any] | None:
    """The ticket an object wraps under a key of the model's own (`{"ticket": {…}}`), maybe
    beside keys that are no ticket's (`"confidence": 0.9`), maybe as a JSON string or as the
    one item of a list: the one value that is a ticket-like object. None when no value is one,
    or more than one is (which of them is the ticket is not plain)."""
    inner = [
        one
        for value in found.values()
        if isinstance(one := _one_item(_unquoted(value)), dict) and _ticket_like(one)
    ]
    return inner[0] if len(inner) == 1 else None


def _one_item(found: Any) -> Any:
    """`found`, or the one item of a one-item list (`[{…}]`: the ticket in a list of one)."""
    return found[0] if isinstance(found, list) and len(found) == 1 else found


#: Other names models give a ticket's fields, each read only where the contract's own is
#: missing or null (`summary`: the description, else the title; see `_named`).
#: A model answering in the alert's language may translate the keys as well (French, German,
#: Spanish, Portuguese, Italian, Dutch; with and without their accents): those are read too.
_SYNONYMS = {
    "title": ("headline", "subject", "titre", "titel", "título", "titulo", "titolo"),
    "description": (
        "details",
        "body",
        "beschreibung",
        "descripción",
        "descripcion",
        "descrição",
        "descricao",
        "descrizione",
        "beschrijving",
    ),
    "steps": (
        "next_steps",
        "actions",
        "action_items",
        "recommended_actions",
        "remediation",
        "remediation_steps",
        "recommendations",
        "étapes",
        "etapes",
        "schritte",
        "pasos",
        "passos",
        "passaggi",
        "stappen",
    ),
    "priority": (
        "severity",
        "urgency",
        "priorité",
        "priorite",
        "priorität",
        "prioritaet",
        "prioridad",
        "prioridade",
        "priorità",
        "priorita",
        "prioriteit",
    ),
}
_ROLES = {other: key for key, others in _SYNONYMS.items() for other in others}
#: Spaces and hyphens in a key: "Next Steps" and "next-steps" are `next_steps`.
_KEY_GAPS = re.compile(r"[\s-]+")


def _key(key: Any) -> str:
    if key in _CONTRACT_KEYS:
        return str(key)  # nearly every key: as the contract spells it
    return _KEY_GAPS.sub("_", str(key).strip().lower())


def _role_of(key: str) -> str | None:
    """The ticket field `key` names (the contract's, under its own name or another), or
    `summary` (the description or the title, `_named`); None for a key of no field."""
    name = _key(key)
    if name in _CONTRACT_KEYS or name == "summary":
        return name
    return _ROLES.get(name)


def _named(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with each contract key that is missing or null taken from its first synonym
    that is not; a `summary` is the description when there is none, else the title."""
    named = dict(fields)
    for key, others in (*_SYNONYMS.items(), ("description", ("summary",)), ("title", ("summary",))):
        if named.get(key) is None:
            other = next((name for name in others if fields.get(name) is not None), None)
            if other is not None:
                named[key] = fields[other]
                if other == "summary":
                    break  # one field, read once
    return named


def _fields(found: Any) -> Any:
    """The answer's fields in the contract's shapes where the meaning is plain; anything
    else is left as it is, for validation to refuse."""
    found = _one_item(found)
    if not isinstance(found, dict):
        return found
    fields = {_key(key): value for key, value in found.items()}
    if not fields.keys() & _CONTRACT_KEYS and (inner := _wrapped(found)) is not None:
        # {"ticket": {...}}: the ticket wrapped in a key of the model's own, maybe as a JSON
        # string ({"response": "{\"title\": …}"}), maybe beside keys of no ticket.
        return _fields(inner)
    fields = _named(fields)
    read: dict[str, Any] = {
        # No title at all: the alert's own stands in (`contain`), as for an empty one.
        "title": _line(fields.get("title") or "", TITLE_CHARS),
        "description": _description(fields.get("description")),
        "steps": _steps(fields.get("steps")),
    }
    # A priority the alert's own field would read ("High", "P1", "urgent", 1) is read so; one
    # that is no priority at all suggests none: the severity's default stands.
    suggested = _priority(fields.get("priority"))
    if suggested is not None:
        read["priority"] = suggested.value
    return read


def _priority(value: Any) -> Priority | None:
    """The priority the model suggests: as an alert's own field is read, else the same word
    without Markdown or punctuation around it ("**High**", "low."), else a word for it in
    another language (`priority.FOREIGN_PRIORITY`: a model writes in the alert's language
    when the alert's text is in it, or asks it to), else the same after a priority's name
    ("Priority: low", `priority.unlabelled`; a severity's name is no priority's)."""
    found = priority(value)
    if found is not None or not isinstance(value, str):
        return found
    bare = value[:_PRIORITY_CHARS].strip().strip(_AROUND).strip()
    found = word_priority(bare)
    if found is None and (rest := unlabelled(value[:_PRIORITY_CHARS])) is not None:
        # "Priority: low": the field's name written into its value, once.
        found = _priority(rest)
    return found


#: How much of a priority string is read: a word or two.
_PRIORITY_CHARS = 64
#: What may stand around a priority word: Markdown emphasis, quotes, a full stop.
_AROUND = "*_`'\".,!:;"


def _line(value: Any, limit: int) -> Any:
    """A string without lone surrogates, cut to `limit` characters (a title past it ends in an
    ellipsis); an empty title is left empty for the alert's own (`contain`); other types stay
    as they are."""
    if not isinstance(value, str):
        return value
    value = _LONE_SURROGATE.sub("", value)
    # Whole words: the first 38 characters of a 40-character secret would not look like one.
    return cut(value.strip(), limit, ellipsis=True, whole_words=True)


def _listed(value: Any) -> Any:
    """`value`, or the list of texts a JSON string holds (`"[\\"Check web-1\\", …]"`: a
    list encoded twice); a string that is no such list (`"[WARN] disk full"`) stays as it is.
    Only a string short enough to be a ticket's field is parsed."""
    if not isinstance(value, str) or len(value) > _REPAIR_CHARS:
        return value
    if not value.lstrip().startswith("[") or not value.rstrip().endswith("]"):
        return value
    try:
        found = json.loads(value)
    except (ValueError, RecursionError):
        return value
    if isinstance(found, list) and found and all(isinstance(one, str) for one in found):
        return found
    return value


def _description(value: Any) -> Any:
    """A list of paragraphs (maybe encoded as a JSON string), or an object keying them
    (`{"summary": "…", "impact": "…"}`, `{"1": "…"}`: its texts in the order written), joined
    by blank lines, read until the contract's length is reached; the whole cut to it."""
    value = _paragraphs(_listed(value))
    if isinstance(value, list) and value:
        paragraphs: list[str] = []
        length = 0
        for part in value:
            if not isinstance(part, str):
                return value
            if not blank(part):
                paragraphs.append(part.strip())
                length += len(paragraphs[-1]) + 2
            if length > DESCRIPTION_CHARS:
                break  # the rest is past what a ticket holds: not read
        value = "\n\n".join(paragraphs)
    return _line(value, DESCRIPTION_CHARS)


def _paragraphs(value: Any) -> Any:
    """`value`, or the values of an object keying paragraphs as a list in the order written
    (its keys name or number them, and are not the ticket's text); an empty object, or one
    with more items than a description holds paragraphs, is left as it is (validation
    refuses it, as `_description` refuses a value that is no text)."""
    if not isinstance(value, dict) or not value:
        return value
    items = list(islice(value.values(), _STEP_ITEMS + 1))
    return items if len(items) <= _STEP_ITEMS else value


def _steps(value: Any) -> Any:
    """A list of steps: one string becomes a step per line, without list markers; a step
    written as an object ({"step": 1, "action": "…"}) is its texts joined; empty steps are
    dropped and at most MAX_STEPS kept, each cut to the contract's length. Only as much of
    the steps as that takes is read (a server's answer may hold millions of them). A list
    encoded as a JSON string is the list it holds (`_listed`)."""
    value = _listed(_numbered(value))
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = _inline_steps(value[0]) or value
    elif isinstance(value, str):
        value = _inline_steps(value) or value
    if isinstance(value, str):
        return _kept(_STEP_MARK.sub("", line[0]) for line in _LINE.finditer(value))
    if isinstance(value, list):
        kept = _kept(_step_text(s) if isinstance(s, dict) else s for s in value)
        return value if kept is None else kept  # not steps: validation refuses the list
    return value


def _inline_steps(text: str) -> list[str] | None:
    """The steps of one line numbering them inline ("1. Check the logs 2. Roll back 3. …"),
    without their numbers; None unless it opens with "1." (or "1)") and the numbers after
    it run 2, 3, … each after a space: a model that put every step in one string meant a
    list, and one step of them all would be cut at the contract's length. Text on several
    lines is read line by line (`_steps`)."""
    text = text.strip()
    if not text or _LINE_BREAK.search(text) or not _FIRST_NUMBER.match(text):
        return None
    starts: list[tuple[int, int]] = []  # (where its number starts, where its text starts)
    at, number = 0, 1
    while number <= MAX_STEPS + 1:  # the one after the last kept ends it; each a scan
        found = _inline_number(text, number, at)
        if found is None:
            break
        starts.append(found)
        at, number = found[1], number + 1
    if len(starts) < 2:
        return None
    ends = [start for start, _ in starts[1:]] + [len(text)]
    steps = [text[begin:end].strip() for (_, begin), end in zip(starts, ends, strict=True)]
    return steps[:MAX_STEPS]


def _inline_number(text: str, number: int, at: int) -> tuple[int, int] | None:
    """Where step `number`'s marker ("3. ", "3) ") starts at or after `at`, and where its
    text starts: the first one, at the text's start (step 1) or after a space."""
    best: tuple[int, int] | None = None
    for closer in ".)":
        marker = f"{number}{closer} "
        found = text.find(marker, at) if number == 1 else text.find(f" {marker}", at)
        if found < 0 or (number == 1 and found != 0):
            continue
        start = found if number == 1 else found + 1
        if best is None or start < best[0]:
            best = (start, start + len(marker))
    return best


#: A step list's first number opening a line ("1. ", "1) ").
_FIRST_NUMBER = re.compile(r"1[.)] ")
#: Any line break `str.splitlines` knows.
_LINE_BREAK = re.compile(r"[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _numbered(value: Any) -> Any:
    """`value`, or the texts of an object numbering its steps (`{"1": "…", "2": "…"}`,
    `{"step1": …}`, `{"Step 2": …}`) as a list in the order written; an object with another
    key or a value that is no text is left as it is (validation refuses it)."""
    if not isinstance(value, dict) or not value:
        return value
    items = list(islice(value.items(), _STEP_ITEMS + 1))
    if len(items) > _STEP_ITEMS:
        return value
    numbered = all(
        isinstance(key, str) and _STEP_KEY.fullmatch(key) and isinstance(text, str)
        for key, text in items
    )
    return [text for _, text in items] if numbered else value


#: A key numbering a step: "1", "1.", "step1", "Step 2", "step_3".
_STEP_KEY = re.compile(r"\s{0,4}(?:step[\s_-]{0,2})?\d{1,4}[.):]?\s{0,4}", re.IGNORECASE)


def _kept(steps: Iterator[Any]) -> list[str] | None:
    """The first MAX_STEPS steps that show something (`blank`), cut, from the first
    `_STEP_ITEMS` of `steps`; None when one read is no text."""
    kept: list[str] = []
    for step in islice(steps, _STEP_ITEMS):
        if not isinstance(step, str):
            return None
        if not blank(step):  # one of zero-width or control characters only shows nothing
            kept.append(_line(step, STEP_CHARS))
            if len(kept) == MAX_STEPS:
                break
    return kept


#: How many steps are read, blank ones included, for the MAX_STEPS kept.
_STEP_ITEMS = 1000
#: A line with something on it, from its first visible character (every line break that
#: `str.splitlines` knows ends it).
_LINE = re.compile(r"\S[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*")


def _step_text(step: dict[Any, Any]) -> Any:
    """A step written as an object: its text values in order, joined ("Check the pod: kubectl
    logs api-1"); its number and other non-text values dropped. None when it holds no text."""
    values = islice(step.values(), _STEP_FIELDS)
    texts = [value.strip() for value in values if isinstance(value, str) and value.strip()]
    return ": ".join(texts) if texts else None


#: How many fields of a step written as an object are read ({"step", "action", "command"}).
_STEP_FIELDS = 16
