"""Credentials the process holds (`redact.held`): holding one again changes nothing readers
see, so a redactor keeps what it remembered (the backend's token is held again at every
read, once per ticket); a new one is redacted at once; the oldest is evicted past the bound."""

from __future__ import annotations

from triage.redact import Redactor
from triage.redact.held import _HELD_MAX, _forget_held, held, hold


def test_holding_a_held_credential_again_keeps_the_same_values_and_memo() -> None:
    """A credential held again leaves `held()` the very same tuple, so a redactor's sorted
    values (and what it remembered of texts) survive it."""
    _forget_held()
    hold("tok-aaaaaaaaaaaa")
    hold("tok-bbbbbbbbbbbb")
    before = held()
    redactor = Redactor()
    secrets = redactor._secrets()
    hold("tok-aaaaaaaaaaaa")
    assert held() is before
    assert redactor._secrets() is secrets


def test_a_new_credential_is_redacted_at_once() -> None:
    """A credential not held yet makes a new tuple, and the next text redacts it."""
    _forget_held()
    redactor = Redactor()
    assert "tok-cccccccccccc" in redactor.text("saw tok-cccccccccccc here")
    hold("tok-cccccccccccc")
    assert "tok-cccccccccccc" not in redactor.text("saw tok-cccccccccccc here")


def test_held_again_a_credential_is_the_last_evicted() -> None:
    """Past the bound the least recently held goes: a credential held again (the token in
    use) outlives ones first held after it."""
    _forget_held()
    hold("tok-first-00000")
    for i in range(_HELD_MAX - 1):
        hold(f"tok-minted-{i:05d}")
    hold("tok-first-00000")  # still in use
    hold("tok-newest-00000")
    assert "tok-first-00000" in held()
    assert "tok-minted-00000" not in held()
    assert len(held()) == _HELD_MAX
