"""Redaction is idempotent: `redact(redact(x)) == redact(x)` for every text the suite's corpora
hold (the sample payloads, the secret-packed rounds, `test_redact`'s cases; the samples made
hostile are checked in `test_every_source_hostile`, beside their rendering, whose first pass
they share), and for every secret shape placed where a rule reads a name or a value around it.
A placeholder is the redactor's own output: never read as a secret's name, a key or a value's
start in a way that takes the text after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import test_redact as cases
import test_redaction_boundary as boundary
from case_chunks import assert_each, dealt
from fixed_point import body_texts, unstable
from triage.redact import redact

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))
#: Texts longer than this are left to `test_redact`'s own linear-time tests: a fixed point of
#: a 250,000-character repetition shows nothing a short one does not.
LONGEST = 20_000


@pytest.mark.parametrize("name", SAMPLES)
def test_a_sample_payload_redacts_to_a_fixed_point(name: str) -> None:
    """Every sample payload, and each key and string in it, redacted twice is redacted once."""
    assert unstable(body_texts((PAYLOADS / name).read_text(encoding="utf-8"))) == []


def test_the_boundary_secrets_redact_to_a_fixed_point() -> None:
    """Each secret `test_redaction_boundary` packs into alerts, alone and all in one text
    group by group, is a fixed point after one pass."""
    texts = [s.text for s in boundary.SECRETS]
    texts += [" ".join(s.text for s in group) for group in boundary.GROUPS]
    assert unstable(iter(texts)) == []


@pytest.mark.parametrize("name", boundary.SOURCES)
def test_a_secret_packed_alert_redacts_to_a_fixed_point(name: str) -> None:
    """Every source's alerts in every round of `test_redaction_boundary` (every kind of secret
    in every free-text field): the raw payload and each text field are fixed points."""

    def texts() -> Iterator[str]:
        for sources, _ in boundary._rounds(name):
            for source in sources:
                yield from body_texts(json.dumps(source.raw, ensure_ascii=False))
                yield from (source.title, source.description)

    assert unstable(texts()) == []


def _case_texts() -> list[str]:
    """`test_redact`'s inputs: the secret shapes, the texts kept, the hostile texts, the
    fragments its random mixes are made of, and the mixes."""
    texts = [text for text, _ in cases.CASES]
    texts += [*cases.KEEP, *cases.HOSTILE, *cases._PARTS, *cases._mixes()]
    return [text for text in dict.fromkeys(texts) if len(text) <= LONGEST]


@pytest.mark.parametrize("texts", dealt(_case_texts(), 6))
def test_every_redact_case_redacts_to_a_fixed_point(texts: list[str]) -> None:
    """Each of `test_redact`'s inputs, redacted twice, is what it is redacted once."""
    assert_each(texts, lambda text: (redact(redact(text)), redact(text)), name="text")


#: Where a rule reads a name before a value, or a value after one: each `{s}` is a secret
#: shape (`test_redact.CASES`), which the first pass makes a placeholder. Grouped by the rule
#: that, on a second pass, read that placeholder (its kind, `password`) as a secret's name.
AROUND = {
    # calls: a fallback's literal after the name before its operator.
    "fallback": [
        'X={s} {{ "type": "service_account" }}',
        '{s} || "fallback-value1"',
        '{s} or "fallback-value1"',
        '{s} ?? "fallback-value1"',
        'x = {s} if c else "hunter2value"',
        'c ? {s} : "hunter2value"',
        '{s}, "hunter2value")',
        '{s} | default "hunter2value"',
    ],
    # tables: a row's first cell, an HTML cell, a header's cell.
    "table": [
        "| {s} | hunter2value |",
        "<td>{s}</td><td>hunter2value</td>",
        "id,{s}\n1,hunter2value",
        "id\t{s}\n1\thunter2value",
    ],
    # markup: a name/value object's name, an XML element's key= or name= attribute.
    "object": [
        '{{"name": "{s}", "value": "hunter2value"}}',
        '{{"Key": "{s}", "Value": "hunter2value"}}',
        '<add key="{s}" value="hunter2value"/>',
        '<property name="{s}" value="hunter2value"/>',
    ],
    # any rule: the text after the placeholder, on its line and the next.
    "after": [
        "{s}: hunter2value",
        "{s} hunter2value",
        '{s} = "hunter2value"',
        "{s}\n  hunter2value: x",
    ],
}


#: A command's option given twice: the second pass must not read past the placeholder the
#: first left for the first one, to the next (ssh's `-p` port after sshpass's `-p`).
OPTION_TWICE = [
    "sshpass -p hunter2 ssh host -p hunter2value",
    "sshpass -phunter2 ssh host -p 2222",
    "mysql -u root -phunter2 db -pfoo2bar",
    "mysqldump -u root -p'hunter2' db -pfoo2bar",
    "lftp -u user,hunter2 sftp://h -u bob,hunter3",
    "127.0.0.1:6379> auth foobared hunter2value",
    "127.0.0.1:6379> auth foobared, hunter2value",
]


def test_a_placeholder_is_never_read_as_an_options_value() -> None:
    """A command line whose password the first pass replaced redacts to itself: the second
    pass reads neither the option given again after it, nor the word before it (Redis's
    AUTH user), as a password."""
    assert unstable(iter(OPTION_TWICE)) == []


def _secret_shapes() -> list[str]:
    """The one-line secret shapes of `test_redact.CASES` that the first pass redacts."""
    return [
        text
        for text, redacted in cases.CASES
        if "\n" not in text and '"' not in text and len(text) < 300 and "[REDACTED" in redacted
    ]


@pytest.mark.parametrize("around", sorted(AROUND))
def test_a_placeholder_is_never_read_as_a_name(around: str) -> None:
    """Every secret shape placed before a value where a rule reads a name (a fallback's
    operator, a table's cell, a name/value object) redacts to a fixed point: the placeholder
    the first pass leaves never names the value after it."""
    texts = (template.format(s=s) for template in AROUND[around] for s in _secret_shapes())
    assert unstable(texts) == []


#: Text as the first pass leaves it, a placeholder where a rule reads a value: inside an object
#: under a secret's name (read as `REDACTED: password`, nested one level more each pass), and
#: starting a line's value with more glued to it (read with the rest of the line).
REDACTED_VALUES = [
    'aPi_KeY={"pass": [REDACTED:password], "fail": [REDACTED:password]} build: pass',
    "credentials = {user: bob, token: [REDACTED:token]}",
    "password: [REDACTED:password]}AGE x",
    "api_key: [REDACTED:api-key], region=eu",
]


def test_a_placeholder_is_never_read_as_a_values_start() -> None:
    """A placeholder where a value stands is kept whole with what follows it: redacting such
    text changes nothing."""
    assert_each(REDACTED_VALUES, lambda text: (redact(text), text), name="text")


def test_a_templates_closing_braces_are_no_told_value() -> None:
    """A template whose last word names a secret (`{{ .Values.db.password }}`) keeps its
    closing braces: taken as the value told after `password`, the template was gone and a
    second pass read the line's name before it as a secret's, redacting the line again."""
    texts = [
        "password: {{ .Values.db.password }}MYSQL -u root",
        "token: {{ .Values.api.token }}suffix",
    ]
    assert unstable(iter(texts)) == []
