"""Ticket destinations behind one `Sink` protocol."""

from triage.sinks.base import Applied, Effect, Sink

__all__ = ["Applied", "Effect", "Sink"]
