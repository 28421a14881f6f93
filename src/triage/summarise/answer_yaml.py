"""Reading a model's ticket written as YAML, when what it says is plain.

A model that ignores the JSON contract (a server without structured output, a small model)
sometimes answers in YAML, fenced (```yaml) or as bare `key: value` lines. Its ticket is read
here from the ticket's own shapes only: a top-level field per line, its value a plain, quoted
(`"…"`, `'…'`) or flow-list (`[…]`) scalar, a literal (`|`) or folded (`>`) block, indented
continuation lines, or a list of `- ` items (at the key's indent too). A YAML parser is not
used: the project has none as a dependency, and a general one reads far more than a ticket
(aliases that expand, tags that construct objects). What is not plain is refused as
`AmbiguousAnswer` rather than guessed at: a field given twice (or under two of its names), an
anchor, an alias or a tag, a flow mapping, a second document, a value beside a list, a quoted
scalar over lines, a line that belongs to no field. Text with fewer than two of a ticket's
fields at a line's start (prose with a "Note:") is no YAML ticket at all. Reading is one pass
over the lines, each matched by bounded patterns, so its cost is linear in the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class AmbiguousAnswer(ValueError):
    """The model's answer is YAML whose ticket is not plain: refused, not guessed at."""


#: A field's line: a key at the line's start (a word, maybe of several, as "Next Steps"),
#: a colon, and its value after a space, if any.
_FIELD = re.compile(r"(?P<key>[^\W\d][\w \t-]{0,40}?)[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*")
#: A list item: a dash, then its text after a space (or nothing).
_ITEM = re.compile(r"-(?:[ \t]+(?P<text>.*?))?[ \t]*")
#: A block scalar's header: literal or folded, with a chomping or indentation indicator.
_BLOCK = re.compile(r"(?P<style>[|>])[-+]?[1-9]?[-+]?(?:[ \t]+#.*)?")
#: What a value may not start with to be read plainly: an anchor, an alias, a tag, a flow
#: mapping, YAML's reserved characters, a directive.
_NOT_PLAIN = ("&", "*", "!", "{", "@", "`", "%")
#: The line that opens a document, and the one that ends it.
_DOCUMENT_START = re.compile(r"---(?:[ \t].*)?")
_DOCUMENT_END = re.compile(r"\.\.\.[ \t]*")


@dataclass
class _Field:
    """A top-level field as written: its key, the value on its line, and the lines under it."""

    key: str
    value: str
    lines: list[str] = field(default_factory=list)


def ticket_fields(text: str, role_of: Callable[[str], str | None]) -> dict[str, Any] | None:
    """The ticket's fields in `text` written as YAML, keyed as written, for `answer` to read
    as it reads a JSON object's; None when `text` holds fewer than two of a ticket's fields at
    a line's start (`role_of` names the ticket field a key stands for, None for none). Raises
    AmbiguousAnswer when it is YAML whose ticket is not plain."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    roles = [_role(line, role_of) for line in lines]
    if len({role for role in roles if role is not None}) < 2:
        return None
    first = next(at for at, role in enumerate(roles) if role is not None)
    fields = list(_fields(lines[first:], role_of))
    _one_each(fields, role_of)
    return {one.key: _value(one) for one in fields if role_of(one.key) is not None}


def _role(line: str, role_of: Callable[[str], str | None]) -> str | None:
    """The ticket field `line` starts, when it is a field's line whose key names one."""
    found = _FIELD.fullmatch(line)
    return role_of(found["key"]) if found is not None else None


def _fields(lines: list[str], role_of: Callable[[str], str | None]) -> Iterator[_Field]:
    """The top-level fields of `lines`, from the first ticket field's line: each with the
    lines under it (indented, blank, or a list item at the key's indent). A blank line and
    then a line that is none of these ends the ticket (a remark after it); such a line with
    no blank line before it belongs to no field, as does a second document."""
    current: _Field | None = None
    blank_before = False
    for line in lines:
        if _DOCUMENT_END.fullmatch(line):
            break
        if _DOCUMENT_START.fullmatch(line):
            raise AmbiguousAnswer("a second YAML document")
        if line.startswith("#"):
            continue  # a comment
        if not line.strip():
            blank_before = True
            if current is not None:
                current.lines.append("")
            continue
        if line[0] in " \t" or _ITEM.fullmatch(line):
            if current is None:
                raise AmbiguousAnswer("a line under no field")
            current.lines.append(line)
        elif (found := _FIELD.fullmatch(line)) is not None:
            if current is not None:
                yield current
            current = _Field(found["key"], found["value"] or "")
        elif blank_before:
            break  # a remark after the ticket
        else:
            raise AmbiguousAnswer("a line that belongs to no field")
        blank_before = False
    if current is not None:
        yield current


def _one_each(fields: list[_Field], role_of: Callable[[str], str | None]) -> None:
    """Raises AmbiguousAnswer when a key, or a ticket field under two of its names, is given
    twice: which one the model meant is not plain (`summary` may stand for either of two
    fields, and is read as the JSON reader reads it)."""
    seen: set[str] = set()
    for one in fields:
        role = role_of(one.key)
        name = f"key {one.key.strip().lower()}" if role in (None, "summary") else role
        if name in seen:
            raise AmbiguousAnswer(f"{name} given twice")
        seen.add(name)


def _value(one: _Field) -> Any:
    """A field's value: its scalar, block, list, or plain lines folded; None when empty."""
    lines = _trimmed(one.lines)
    value = one.value.strip()
    block = _BLOCK.fullmatch(value)
    if block is not None:
        return _block(lines, folded=block["style"] == ">")
    if not lines:
        return _scalar(value) if value else None
    items = [_ITEM.fullmatch(line.strip()) is not None for line in lines if line.strip()]
    if any(items):
        if value:
            raise AmbiguousAnswer("a value beside a list")
        return _items(lines)
    if value[:1] in ("'", '"'):
        raise AmbiguousAnswer("a quoted scalar over lines")
    return _folded([value, *(line.strip() for line in lines)] if value else lines)


def _trimmed(lines: list[str]) -> list[str]:
    """`lines` without the blank lines (and comments after them) at their end."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _scalar(value: str) -> Any:
    """A one-line value: a double-quoted string (JSON's escapes, YAML's common ones), a
    single-quoted one (`''` a quote), a flow list, or plain text as written."""
    if value.startswith(_NOT_PLAIN):
        raise AmbiguousAnswer("an anchor, alias, tag or flow mapping")
    if value.startswith('"'):
        return _quoted(value)
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'"):
            raise AmbiguousAnswer("a quoted scalar not closed on its line")
        return value[1:-1].replace("''", "'")
    if value.startswith("["):
        return _flow_list(value)
    return value


def _quoted(value: str) -> str:
    """A double-quoted scalar on one line, read as the JSON string it is spelled as."""
    try:
        found = json.loads(value)
    except json.JSONDecodeError:
        raise AmbiguousAnswer("a double-quoted scalar JSON does not read") from None
    if not isinstance(found, str):
        raise AmbiguousAnswer("a double-quoted scalar JSON does not read")
    return found


def _flow_list(value: str) -> list[Any]:
    """`[a, b]`: read as JSON (`["a", "b"]`), else as plain items between commas when none
    holds a quote or a bracket."""
    try:
        found = json.loads(value)
    except json.JSONDecodeError:
        inner = value[1:-1] if value.endswith("]") else None
        if inner is None or any(mark in inner for mark in "[]{}'\""):
            raise AmbiguousAnswer("a flow list that is not plain") from None
        return [item.strip() for item in inner.split(",") if item.strip()]
    if not isinstance(found, list):
        raise AmbiguousAnswer("a flow list that is not plain")
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _block(lines: list[str], *, folded: bool) -> str:
    """A literal (`|`) or folded (`>`) block: its lines without their common indent, kept
    as lines or folded (`_folded`); a line less indented than the first is no block's."""
    if not lines:
        return ""
    indent = min(_indent(line) for line in lines if line.strip())
    if indent == 0:
        raise AmbiguousAnswer("a block scalar's line not indented")
    body = [line[indent:] if line.strip() else "" for line in lines]
    return _folded(body) if folded else "\n".join(body).strip()


def _folded(lines: list[str]) -> str:
    """Lines folded as YAML folds them: a line break between two lines is a space, a blank
    line is a line break."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n".join(" ".join(words) for words in paragraphs if words)


def _items(lines: list[str]) -> list[Any]:
    """A list's items: each `- ` line at the first item's indent starts one; a more indented
    line continues it (folded, or its block when it is `|` or `>`); blank lines between
    items are nothing. A line less indented than the items, or a list inside an item, is
    not plain."""
    indent = _indent(next(line for line in lines if line.strip()))
    items: list[tuple[str, list[str]]] = []
    for line in lines:
        if not line.strip():
            if items:
                items[-1][1].append("")
            continue
        at = _indent(line)
        item = _ITEM.fullmatch(line.strip())
        if at == indent and item is not None:
            items.append((item["text"] or "", []))
        elif at > indent and items and item is None:
            items[-1][1].append(line)
        else:
            raise AmbiguousAnswer("a list's line that is no item of it")
    return [_item(text, _trimmed(more)) for text, more in items]


def _item(text: str, more: list[str]) -> Any:
    """One list item: its scalar, or its block, or its lines folded."""
    block = _BLOCK.fullmatch(text)
    if block is not None:
        return _block(more, folded=block["style"] == ">")
    if not more:
        return _scalar(text)
    if text[:1] in ("'", '"') or text.startswith(_NOT_PLAIN):
        raise AmbiguousAnswer("a quoted or tagged item over lines")
    return _folded([text, *more])
