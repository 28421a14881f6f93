"""`triage demo`, the embedded default (`run`), with the loopback services it runs beside the
daemon: a ticket backend (`ticketd`) and an OpenAI-compatible model (`model`)."""

from triage.demo.run import run_demo

__all__ = ["run_demo"]
