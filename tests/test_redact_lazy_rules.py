"""A redaction rule compiles its pattern the first time it is asked for, once: importing the
redactor no longer compiles every rule, and a text redacts the same either way."""

from __future__ import annotations

import re

from triage.redact import redact
from triage.redact.rule import _rule


def test_a_rule_compiles_its_pattern_on_first_use_and_keeps_it() -> None:
    """A new rule holds no compiled pattern until asked, then the same one every time."""
    rule = _rule(r"(?P<name>sekrit)=\w+", r"\g<name>=X", "sekrit", flags=re.IGNORECASE)
    assert rule._compiled is None
    pattern = rule.pattern
    assert rule.pattern is pattern
    assert pattern.flags & re.IGNORECASE and pattern.pattern == rule.source
    assert pattern.sub(rule.replacement, "SEKRIT=abc") == "SEKRIT=X"  # type: ignore[arg-type]


def test_redaction_reads_the_same_with_rules_compiled_on_first_use() -> None:
    """A text holding a secret's name (so its rules compile now) is redacted as before."""
    assert redact("DB_PASSWORD=hunter2-long") == "DB_PASSWORD=[REDACTED:password]"
