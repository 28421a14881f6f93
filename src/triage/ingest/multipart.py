"""A `multipart/form-data` body (RFC 7578) read as its text fields, strictly and in bounded work.

Some tools post their webhook as a form of this kind (a `payload` field of JSON, or one field
per value). The sender chooses the boundary and writes every part's head, so nothing here
trusts either: the boundary must be one RFC 2046 allows; the body is already whole and at
most 1 MiB (the gateway read it), and it is cut at each delimiter with `bytes.find`, so the work
is linear in its size, whatever it holds; at most `MAX_PARTS` parts, each head at most
`MAX_PART_HEAD_BYTES` in `MAX_PART_HEADERS` lines, each line ended by CRLF. Anything else is
refused, never guessed at:

    no delimiter, no closing delimiter (or text after one on its line), a bare CR or
    LF in a head, a folded or unreadable header line, a part without
    `Content-Disposition: form-data; name=…`,
    a nested multipart, too many parts, or too large a head     MalformedForm (400)
    a file (a `filename`), a part whose type is not text or JSON,
    a `Content-Transfer-Encoding` other than 7bit, 8bit, binary   UnreadPart (415)

Written here rather than with the stdlib's `email` parser or aiohttp's `MultipartReader`: both
read leniently what a sender gets wrong (a missing closing boundary is a defect noted, not an
error; bare LFs and folded lines pass), the first nests without a bound, and the second reads
from the socket, before the body's size and coding are known. A new dependency for ~150 lines
that must refuse more than it accepts is not worth its upgrades.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Parts one body may hold: a webhook sends ten or so (the same bound as a urlencoded form's).
MAX_PARTS = 1_000
#: Bytes of one part's head (its header lines), and how many lines it may have.
MAX_PART_HEAD_BYTES = 8 * 1024
MAX_PART_HEADERS = 16
#: A boundary, as RFC 2046 5.1.1 allows it: 1 to 70 of these characters, not ending in a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
#: A header's name (an RFC 9110 token).
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: One `; name=value` parameter of a header, the value a token or a quoted string.
_PARAMETER = re.compile(
    r'\s*;\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[!#$%&\'*+\-.^_`|~0-9A-Za-z]+)'
)
_QUOTED_PAIR = re.compile(r"\\(.)")
#: Media types a field may declare besides `text/*` and `…+json`: its text is read; any other
#: is a file's.
_TEXT_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})
_READ_CODINGS = frozenset({"7bit", "8bit", "binary"})
_CRLF = b"\r\n"


class FormError(Exception):
    """A multipart body the gateway does not read; the text says why, quoting none of it."""


class MalformedForm(FormError):
    """The body is not the multipart/form-data its Content-Type says (answered 400)."""


class UnreadPart(FormError):
    """A part the gateway does not read: a file, or not text (answered 415)."""


@dataclass(frozen=True, slots=True)
class Field:
    """One text field: its name, its value as sent, and the charset its part declares."""

    name: str
    value: bytes
    charset: str | None


def check_boundary(boundary: str | None) -> str:
    """`boundary`, when RFC 2046 allows it; MalformedForm otherwise (checked from the head)."""
    if not boundary:
        raise MalformedForm("multipart/form-data without a boundary parameter")
    if not _BOUNDARY.fullmatch(boundary):
        raise MalformedForm(
            "the multipart boundary is not 1 to 70 of the characters RFC 2046 allows"
        )
    return boundary


def fields(body: bytes, boundary: str) -> list[Field]:
    """The text fields of a multipart/form-data `body`, in the order sent."""
    delimiter = b"--" + check_boundary(boundary).encode("ascii")
    position = _first_delimiter(body, delimiter)
    found: list[Field] = []
    while True:
        position += len(delimiter)
        if body.startswith(b"--", position):
            _check_closing_line(body, position + len(b"--"))
            return found  # the closing delimiter: what follows its line is the epilogue
        position = _after_padding(body, position)
        end = body.find(_CRLF + delimiter, position)
        if end == -1:
            raise MalformedForm("the multipart body has no closing boundary")
        if len(found) == MAX_PARTS:
            raise MalformedForm(f"the multipart body has more than {MAX_PARTS:,} parts")
        found.append(_field(body[position:end]))
        position = end + len(_CRLF)


def _first_delimiter(body: bytes, delimiter: bytes) -> int:
    """Where the first delimiter line starts: at the body's start, or after a preamble."""
    if body.startswith(delimiter):
        return 0
    found = body.find(_CRLF + delimiter)
    if found == -1:
        raise MalformedForm("the multipart body has no boundary line")
    return found + len(_CRLF)


def _after_padding(body: bytes, position: int) -> int:
    """Past a delimiter's transport padding (spaces, tabs) and the CRLF ending its line."""
    while position < len(body) and body[position] in b" \t":
        position += 1
    if position == len(body):
        raise MalformedForm("the multipart body has no closing boundary")
    if not body.startswith(_CRLF, position):
        raise MalformedForm("a multipart boundary line does not end with CRLF")
    return position + len(_CRLF)


def _check_closing_line(body: bytes, position: int) -> None:
    """MalformedForm unless the closing delimiter's line holds nothing more than its transport
    padding (RFC 2046). `--B-- more` is a value's line that begins like the closing boundary
    (the sender let the boundary into a value): read as the close, the parts after it would be
    dropped unsaid, and a reader that takes it for text would see them."""
    while position < len(body) and body[position] in b" \t":
        position += 1
    if position < len(body) and not body.startswith(_CRLF, position):
        raise MalformedForm(
            "a multipart closing boundary line holds more than the boundary: a value holds "
            "the boundary, pick another"
        )


def _field(part: bytes) -> Field:
    """One part as a field: its head read, its value what follows the blank line."""
    if part.startswith(_CRLF):
        raise MalformedForm("a multipart part has no Content-Disposition header")
    split = part.find(_CRLF + _CRLF, 0, MAX_PART_HEAD_BYTES + 2 * len(_CRLF))
    if split == -1:
        if len(part) > MAX_PART_HEAD_BYTES:
            raise MalformedForm(f"a multipart part's head is over {MAX_PART_HEAD_BYTES:,} bytes")
        raise MalformedForm("a multipart part's head does not end with a blank line")
    headers = _headers(part[:split])
    value = part[split + 2 * len(_CRLF) :]
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MalformedForm("a multipart part has no Content-Disposition header")
    kind, parameters = _parameters(disposition)
    name = parameters.get("name")
    if kind != "form-data" or name is None:
        raise MalformedForm("a multipart part's Content-Disposition is not form-data with a name")
    if "filename" in parameters or "filename*" in parameters:
        raise UnreadPart("a multipart file part is not read: send the alert as fields")
    coding = headers.get("content-transfer-encoding", "binary").strip().lower()
    if coding not in _READ_CODINGS:
        raise UnreadPart("a multipart part's Content-Transfer-Encoding is not read")
    return Field(name, value, _text_charset(headers.get("content-type")))


def _headers(head: bytes) -> dict[str, str]:
    """A part's header lines by lower-case name; each must be `name: value` on one CRLF line."""
    lines = head.split(_CRLF)
    if len(lines) > MAX_PART_HEADERS:
        raise MalformedForm(f"a multipart part has more than {MAX_PART_HEADERS} header lines")
    headers: dict[str, str] = {}
    for line in lines:
        if b"\r" in line or b"\n" in line:
            raise MalformedForm("a multipart part's header line holds a bare CR or LF")
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise MalformedForm("a multipart part's header line is not `name: value`")
        key = name.decode("ascii").lower()
        if key in headers:
            raise MalformedForm("a multipart part repeats a header")
        try:
            # Field names are UTF-8 (RFC 7578 5.1).
            headers[key] = value.decode("utf-8").strip(" \t")
        except UnicodeDecodeError:
            raise MalformedForm("a multipart part's header is not UTF-8") from None
    return headers


def _parameters(header: str) -> tuple[str, dict[str, str]]:
    """A header value's lower-case first word and its parameters (quoted ones unescaped);
    MalformedForm when anything is left over."""
    kind, _, rest = header.partition(";")
    rest = ";" + rest if rest else ""
    parameters: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAMETER.match(rest, position)
        if match is None:
            if rest[position:].strip(" \t;"):
                raise MalformedForm("a multipart part's header parameters cannot be read")
            break
        key, value = match.group(1).lower(), match.group(2)
        if key in parameters:
            raise MalformedForm("a multipart part's header repeats a parameter")
        if value.startswith('"'):
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        parameters[key] = value
        position = match.end()
    return kind.strip(" \t").lower(), parameters


def _text_charset(content_type: str | None) -> str | None:
    """The charset a text part declares (None: the body's own); UnreadPart for a part that is
    not text, MalformedForm for a nested multipart."""
    if content_type is None:
        return None
    kind, parameters = _parameters(content_type)
    if kind.startswith("multipart/"):
        raise MalformedForm("a nested multipart part is not read: send the alert as fields")
    if not (kind.startswith("text/") or kind.endswith("+json") or kind in _TEXT_TYPES):
        raise UnreadPart("a multipart part that is not text or JSON is not read")
    return parameters.get("charset")
