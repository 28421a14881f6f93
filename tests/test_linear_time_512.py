"""Hostile alert text is redacted in linear time and without a crash (task 512): each check
below once did work that grew with the square of a crafted run, or recursed once per pair."""

from __future__ import annotations

from scaling import assert_linear
from triage.redact import Redactor


def test_a_long_chain_of_kept_pairs_is_redacted_without_recursing_per_pair() -> None:
    """`encrypt=` written 2,000 times (16 KB, a title's size) is redacted, not a
    RecursionError: each pair whose name keeps its value read the next one inside it, a call
    deeper per pair, and the chain's last value is still blanked."""
    redacted = Redactor().text("encrypt=" * 2000 + "password=hunter2xyz")
    assert "hunter2xyz" not in redacted
    assert redacted.startswith("encrypt=encrypt=")


def test_a_short_chain_of_kept_pairs_reads_as_before() -> None:
    """Pairs nested a few deep inside kept values read as before: each inner pair by its own
    name (`credentials: password=…` blanked, `encrypt=…` kept)."""
    redactor = Redactor()
    assert redactor.text("credentials: password=hunter2xyz") == (
        "credentials: password=[REDACTED:password]"
    )
    chain = "encrypt=" * 5 + "hunter2xyz"
    assert redactor.text(chain) == chain


def test_a_line_of_many_pairs_is_read_in_linear_time() -> None:
    """`credentials: ` written thousands of times on one line is redacted in linear time:
    each pair read the rest of its line, to the end, for a connection string."""

    def work(n: int) -> object:
        return Redactor().text("credentials: " * n)

    work(1)  # the rules compile on first use: not a cost of either size
    assert_linear(work, 800)
