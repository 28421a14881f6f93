"""triage: alert-triage daemon."""

from importlib import metadata


def version() -> str:
    """This installation's version (`unknown` when run from a source tree never installed)."""
    try:
        return metadata.version("triage")
    except metadata.PackageNotFoundError:
        return "unknown"
