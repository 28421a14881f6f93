"""triage: alert-triage daemon."""

#: The package's version; pyproject.toml says the same (tests/test_cli.py checks). A constant, not
#: `importlib.metadata`: reading the installed metadata cost every start ~0.05-0.1 s of CPU.
__version__ = "0.1.0"


def version() -> str:
    """This installation's version."""
    return __version__
