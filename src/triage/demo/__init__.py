"""`triage demo`, the embedded default (`run`), with the loopback services it runs beside the
daemon: a ticket backend (`ticketd`) and an OpenAI-compatible model (`model`).

`run_demo` is imported on first use, not here: `run` imports `ticketd` and `model`, and
`python -m triage.demo.ticketd` (the README's stand-in backend, the compose stack's) imports
this package first, so an eager import would load the module it is about to run a second time
(runpy warns, and the server's classes would exist twice)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.demo.run import run_demo

__all__ = ["run_demo"]


def __getattr__(name: str) -> Any:
    if name == "run_demo":
        from triage.demo.run import run_demo

        return run_demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
