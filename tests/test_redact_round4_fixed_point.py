"""Redaction is a fixed point for every text of the redaction tests (round 4): redacted text
redacted again is unchanged. A Python string's prefix before a placeholder (`b'[REDACTED:…]'`)
and a quoted placeholder after an Authorization scheme (`Bearer "[REDACTED:…]"`) are the
first pass's, not a value the second pass takes again.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from triage.redact import Redactor

TESTS = Path(__file__).parent


@pytest.mark.parametrize(
    "text",
    [
        "  password=b'hunter2xyz'",
        "{'token': b\"aB3dE5fG7hJ9kL2mN4pQ6\"}",
        "secret=rb'hunter 2'",
        "api_key = u'hunter2xyz'",
        'Authorization: Bearer "p\\"wS3cr3tT0k3n"',
        "Authorization: Bearer 'S3cr3tT0k3nValue'",
    ],
)
def test_a_prefixed_or_quoted_placeholder_is_a_fixed_point(text: str) -> None:
    """A placeholder behind a string's prefix or a scheme's quote is left as it is."""
    once = Redactor().text(text)
    assert "hunter" not in once and "S3cr3t" not in once
    assert Redactor().text(once) == once


def _test_texts() -> list[str]:
    """Every string of 8 characters or more written in the redaction tests."""
    texts: list[str] = []
    for path in sorted(TESTS.glob("test_redact*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and len(value) >= 8:
                texts.append(value)
    return texts


def test_every_test_text_is_a_fixed_point() -> None:
    """Each text the redaction tests hold, redacted twice, equals it redacted once."""
    redactor = Redactor()
    moved = []
    for text in _test_texts():
        once = redactor.text(text)
        if redactor.text(once) != once:
            moved.append(text)
    assert moved == []
