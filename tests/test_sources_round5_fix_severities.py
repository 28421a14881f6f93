"""Severities a source states, as the ticket's default priority: every spelling of the
incident scale's SEV0 to SEV4, syslog's eight level names, Zabbix's and the log levels'
words (Information, Trace, Verbose) map as their siblings do; unknown words stay medium."""

from __future__ import annotations

import pytest

from triage.models import Priority
from triage.summarise.priority import default_priority

#: Severity as senders spell it, and the default priority a reader expects of it.
SPELLINGS = {
    "SEV0": Priority.CRITICAL,
    "sev-0": Priority.CRITICAL,
    "SEV 0": Priority.CRITICAL,
    "sev_0": Priority.CRITICAL,
    "Sev 1": Priority.CRITICAL,
    "SEV_2": Priority.HIGH,
    "sev 3": Priority.MEDIUM,
    "SEV-4": Priority.LOW,
    "P 0": Priority.CRITICAL,
    "p-1": Priority.HIGH,
}

#: Syslog's (RFC 5424) level names 0 to 7, in the short and long forms tools write.
SYSLOG = {
    "emerg": Priority.CRITICAL, "emergency": Priority.CRITICAL, "alert": Priority.CRITICAL,
    "crit": Priority.CRITICAL, "critical": Priority.CRITICAL, "err": Priority.HIGH,
    "error": Priority.HIGH, "warning": Priority.MEDIUM, "warn": Priority.MEDIUM,
    "notice": Priority.LOW, "info": Priority.LOW, "informational": Priority.LOW,
    "debug": Priority.LOW,
}  # fmt: skip

#: Zabbix's six severities and the log levels of log4j, .NET and Serilog.
TOOL_WORDS = {
    "Not classified": Priority.MEDIUM,
    "Information": Priority.LOW,
    "Warning": Priority.MEDIUM,
    "Average": Priority.MEDIUM,
    "High": Priority.HIGH,
    "Disaster": Priority.CRITICAL,
    "TRACE": Priority.LOW,
    "Verbose": Priority.LOW,
    "Fatal": Priority.CRITICAL,
}


@pytest.mark.parametrize(("severity", "expected"), SPELLINGS.items(), ids=SPELLINGS.keys())
def test_the_incident_scale_in_any_spelling_defaults_as_its_level(
    severity: str, expected: Priority
) -> None:
    """SEV0 to SEV4 (and P-levels) with a space, dash or underscore, in any case, give the
    default their level gives: SEV0 and SEV1 critical, never medium for a spelling."""
    assert default_priority(severity) is expected


@pytest.mark.parametrize(("severity", "expected"), SYSLOG.items(), ids=SYSLOG.keys())
def test_every_syslog_level_name_has_its_default(severity: str, expected: Priority) -> None:
    """Each of syslog's eight level names, short or long, upper or lower case, maps: 0-2 to
    critical, 3 to high, 4 to medium, 5-7 to low."""
    assert default_priority(severity.upper()) is expected
    assert default_priority(severity) is expected


@pytest.mark.parametrize(("severity", "expected"), TOOL_WORDS.items(), ids=TOOL_WORDS.keys())
def test_zabbix_and_log_level_words_have_their_defaults(severity: str, expected: Priority) -> None:
    """Zabbix's Information and the log levels Trace and Verbose are low, as info and debug
    are; Zabbix's `Not classified` stays medium, the default for a severity that says nothing."""
    assert default_priority(severity) is expected


@pytest.mark.parametrize("severity", ["sev5", "sev 12", "p9", "purple", "severe"])
def test_a_level_off_the_scale_stays_medium(severity: str) -> None:
    """A level past the scale (SEV5, P9) or an unknown word is no known severity: medium, so
    the spelling rule reads only the levels the scale has."""
    assert default_priority(severity) is Priority.MEDIUM
