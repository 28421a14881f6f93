"""The gateway's multipart/form-data reader (ingest/multipart.py), in-process: what it takes
from a well-formed form, and that every way a sender (who writes the boundary and each part's
head) can get one wrong is refused with its own reason, in work linear in the body's size."""

from __future__ import annotations

import json

import pytest

from triage.ingest.multipart import (
    MAX_PART_HEAD_BYTES,
    MAX_PART_HEADERS,
    MAX_PARTS,
    Field,
    MalformedForm,
    UnreadPart,
    check_boundary,
    fields,
)
from triage.ingest.validate import Invalid, MalformedBody, UnreadBody, check, multipart_json

B = "xYzZY"


def part(head: str, value: bytes = b"v") -> bytes:
    return f"--{B}\r\n{head}\r\n\r\n".encode() + value + b"\r\n"


def form(*parts: bytes, close: bytes = f"--{B}--\r\n".encode()) -> bytes:
    return b"".join(parts) + close


def named(name: str, **params: str) -> str:
    extra = "".join(f'; {k}="{v}"' for k, v in params.items())
    return f'Content-Disposition: form-data; name="{name}"{extra}'


def test_a_well_formed_form_gives_its_fields_in_order() -> None:
    """Preamble and epilogue are ignored, transport padding after a delimiter is allowed, a
    quoted name keeps its escaped quote, a value keeps its CRLFs and binary bytes, a part's
    charset is kept, and an empty value is a field."""
    body = (
        b"a preamble a client may write\r\n"
        + f"--{B}  \t\r\n{named('a')}\r\n\r\nline one\r\nline two\r\n".encode()
        + part('Content-Disposition: form-data; name="q\\"uote"', b"\xc3\xa9")
        + part(named("c") + "\r\nContent-Type: text/plain; charset=iso-8859-1", b"\xe9")
        + part(named("empty"), b"")
        + f"--{B}--\r\nan epilogue".encode()
    )
    assert fields(body, B) == [
        Field("a", b"line one\r\nline two", None),
        Field('q"uote', b"\xc3\xa9", None),
        Field("c", b"\xe9", "iso-8859-1"),
        Field("empty", b"", None),
    ]


def test_fields_become_the_json_the_daemon_reads_each_in_its_charset() -> None:
    """A part's declared charset reads its value; the body's codec reads the rest; a name sent
    twice keeps both values as an array; a value that is no text in its charset is 422."""
    body = form(
        part(named("Name") + "\r\nContent-Type: text/plain; charset=windows-1252", b"Caf\xe9"),
        part(named("tag"), "\u00fc".encode()),
        part(named("tag"), b"b"),
    )
    assert json.loads(multipart_json(body, B)) == {"Name": "Caf\u00e9", "tag": ["\u00fc", "b"]}
    with pytest.raises(Invalid, match="not UTF-8"):
        multipart_json(form(part(named("a"), b"\xff")), B)
    with pytest.raises(UnreadBody, match="charset"):
        multipart_json(form(part(named("a") + "\r\nContent-Type: text/plain; charset=rot13")), B)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"no delimiter at all", "no boundary line"),
        (f"--{B}x\r\n".encode(), "does not end with CRLF"),
        (part(named("a")), "no closing boundary"),
        (part(named("a")) + f"--{B}".encode(), "no closing boundary"),
        (f"--{B}\r\n{named('a')}\r\n".encode() + b"v" * 100, "no closing boundary"),
        (form(f"--{B}\r\n\r\nv\r\n".encode()), "no Content-Disposition"),
        (form(part("Content-Type: text/plain")), "no Content-Disposition"),
        (form(part("Content-Disposition: attachment; name=a")), "not form-data with a name"),
        (form(part("Content-Disposition: form-data")), "not form-data with a name"),
        (form(part("Content-Disposition: form-data; name=a; ;;x")), "parameters cannot be read"),
        (form(part('Content-Disposition: form-data; name="a')), "parameters cannot be read"),
        (form(part(named("a") + "\r\n folded: line")), "not `name: value`"),
        (form(part(named("a") + "\r\nno colon")), "not `name: value`"),
        (form(part(named("a") + "\r\nBad Name: x")), "not `name: value`"),
        (form(part(named("a") + "\nX-Bare: lf")), "bare CR or LF"),
        (form(part(named("a") + "\rX-Bare: cr")), "bare CR or LF"),
        (form(part(named("a") + "\r\n" + named("b"))), "repeats a header"),
        (form(part('Content-Disposition: form-data; name="a"; NAME="b"')), "repeats a parameter"),
        (form(part(named("a") + "\r\nContent-Type: multipart/mixed; boundary=z")), "nested"),
        (
            form(f"--{B}\r\n".encode() + b"Content-Disposition: form-data; name=\xff\r\n\r\nv\r\n"),
            "not UTF-8",
        ),
    ],
    ids=[
        "no-delimiter",
        "delimiter-glued",
        "no-close",
        "close-cut",
        "value-cut",
        "no-headers",
        "no-disposition",
        "attachment",
        "no-name",
        "junk-parameters",
        "unclosed-quote",
        "folded",
        "no-colon",
        "bad-name",
        "bare-lf",
        "bare-cr",
        "repeated",
        "repeated-parameter",
        "nested",
        "latin-1-head",
    ],
)
def test_a_malformed_form_is_refused_naming_why(body: bytes, says: str) -> None:
    """Each way a form's framing or a part's head can be wrong is MalformedForm (400) with its
    own reason, quoting nothing the sender wrote."""
    with pytest.raises(MalformedForm, match=says) as refused:
        fields(body, B)
    assert B not in str(refused.value)
    with pytest.raises(MalformedBody):
        check("generic", body, None, str, boundary=B)


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (named("thumb", filename="a.png"), "file part"),
        ("Content-Disposition: form-data; name=thumb; filename*=UTF-8''a.png", "file part"),
        (named("a") + "\r\nContent-Type: image/png", "not text or JSON"),
        (named("a") + "\r\nContent-Type: application/octet-stream", "not text or JSON"),
        (named("a") + "\r\nContent-Transfer-Encoding: base64", "Transfer-Encoding"),
    ],
    ids=["filename", "filename-star", "image", "octet-stream", "base64"],
)
def test_files_and_parts_that_are_not_text_are_not_read(head: str, says: str) -> None:
    """A file, a part whose type is not text or JSON, or one in base64 is UnreadPart (415)."""
    with pytest.raises(UnreadPart, match=says):
        fields(form(part(named("payload")), part(head)), B)
    with pytest.raises(UnreadBody):
        check("generic", form(part(head)), None, str, boundary=B)


def test_text_and_json_parts_are_read() -> None:
    """text/*, application/json and a `+json` type are text fields."""
    types = ["text/plain", "application/json", "application/vnd.api+json", "TEXT/CSV"]
    body = form(*(part(named(f"f{i}") + f"\r\nContent-Type: {t}") for i, t in enumerate(types)))
    assert [f.name for f in fields(body, B)] == ["f0", "f1", "f2", "f3"]


def test_bounds_on_parts_and_heads() -> None:
    """At most MAX_PARTS parts, MAX_PART_HEADERS header lines and MAX_PART_HEAD_BYTES of head
    per part: one more of any is MalformedForm; exactly the bound passes."""
    assert len(fields(form(*[part(named("a"))] * MAX_PARTS), B)) == MAX_PARTS
    with pytest.raises(MalformedForm, match=f"more than {MAX_PARTS:,} parts"):
        fields(form(*[part(named("a"))] * (MAX_PARTS + 1)), B)
    lines = [named("a")] + [f"X-{i}: y" for i in range(MAX_PART_HEADERS - 1)]
    assert fields(form(part("\r\n".join(lines))), B)
    with pytest.raises(MalformedForm, match="header lines"):
        fields(form(part("\r\n".join([*lines, "X-last: y"]))), B)
    filler = "X-Pad: " + "p" * (MAX_PART_HEAD_BYTES - len(named("a")) - len("\r\nX-Pad: "))
    assert fields(form(part(named("a") + "\r\n" + filler)), B)
    with pytest.raises(MalformedForm, match="head is over"):
        fields(form(part(named("a") + "\r\n" + filler + "p")), B)


def test_hostile_megabyte_bodies_end_with_the_right_refusal() -> None:
    """A megabyte of near-delimiters, of one head that never ends, or of CRLFs is refused with
    its reason in one linear pass (the per-test timeout is the bound: a quadratic scan of these
    takes minutes)."""
    near = f"\r\n--{B[:-1]}".encode() * (1_048_576 // (len(B) + 3))
    with pytest.raises(MalformedForm, match="no closing boundary"):
        fields(part(named("a"), near), B)
    with pytest.raises(MalformedForm, match="head is over"):
        fields(form(f"--{B}\r\n".encode() + b"X: " + b"h" * 1_048_576 + b"\r\n"), B)
    with pytest.raises(MalformedForm, match="no closing boundary"):
        fields(f"--{B}\r\n".encode() + b"\r\n" * 524_288, B)


@pytest.mark.parametrize(
    ("boundary", "ok"),
    [
        ("simple", True),
        ("----WebKitFormBoundary7MA4YWxkTrZu0gW", True),
        ("with space inside", True),
        ("'()+_,-./:=?", True),
        ("x" * 70, True),
        ("x" * 71, False),
        ("", False),
        (None, False),
        ("ends in space ", False),
        ('a"b', False),
        ("semi;colon", False),
        ("caf\u00e9", False),
    ],
)
def test_only_a_boundary_rfc_2046_allows_is_taken(boundary: str | None, ok: bool) -> None:
    """1 to 70 of RFC 2046's characters, not ending in a space; anything else is refused."""
    if ok:
        assert check_boundary(boundary) == boundary
    else:
        with pytest.raises(MalformedForm, match="boundary"):
            check_boundary(boundary)
