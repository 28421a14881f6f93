"""The environment variables TRIAGE_ROUTES_FILE names for its webhooks, read without loading
the routes: every command warns of misspelt settings (`settings.unknown_variables`) and must
know these are none, and `triage health`, which runs every 30 s as a container's HEALTHCHECK
on a fraction of a CPU, would otherwise import the routes' normalizers and sinks to find them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from triage import config_files
from triage.errors import ConfigError

if TYPE_CHECKING:
    from triage.settings import Settings

#: A larger file is no routes file (a log pasted by mistake, /dev/zero): refused before reading.
MAX_FILE_BYTES = 1 << 20

#: The keys of a route's tables that name an environment variable holding a webhook.
_VARIABLE_KEYS = (("slack", "webhook_url_env"), ("escalate", "slack_webhook_url_env"))


def read_routes_file(path: Path) -> str:
    """The file's text; one ConfigError line for a file that cannot be a routes file."""
    return config_files.read_text(path, "TRIAGE_ROUTES_FILE", MAX_FILE_BYTES)


def variables_read(settings: Settings) -> frozenset[str]:
    """The environment variables TRIAGE_ROUTES_FILE names for its webhooks (`webhook_url_env`,
    `slack_webhook_url_env`): read by name when the routes load, so none is a misspelt setting
    for `settings.unknown_variables` to warn of (a `TRIAGE_SLACK_PAYMENTS_WEBHOOK` is no
    typo). Empty without a file, or with one that cannot be read or parsed: loading the
    routes says why, in its own line."""
    if settings.routes_file is None:
        return frozenset()
    return variables_in_file(settings.routes_file)


def variables_in_file(path: Path) -> frozenset[str]:
    """The webhook variables the routes file at `path` names (`variables_read`), for a caller
    with no Settings: `settings.load_settings` when a value is refused. Empty for a file that
    cannot be read or parsed."""
    try:
        data = config_files.parse_toml(read_routes_file(path), "TRIAGE_ROUTES_FILE")
    except ConfigError:
        return frozenset()
    routes = data.get("route")
    names: set[str] = set()
    for route in routes if isinstance(routes, list) else []:
        for table, key in _VARIABLE_KEYS:
            part = route.get(table) if isinstance(route, dict) else None
            named = part.get(key) if isinstance(part, dict) else None
            if isinstance(named, str):
                names.add(named)
    return frozenset(names)
