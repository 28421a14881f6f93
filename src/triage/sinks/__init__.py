"""Ticket destinations behind one `Sink` protocol."""

from triage.sinks.base import Effect, EffectKind, Sink

__all__ = ["Effect", "EffectKind", "Sink"]
