"""An operator's configuration file (the routes file, the patterns file) read as text: one
ConfigError line, naming the setting and the path, for each way it cannot be read."""

from __future__ import annotations

from pathlib import Path

from triage.errors import ConfigError


def read_text(path: Path, setting: str, max_bytes: int) -> str:
    """`path`'s text: the OS's reason it cannot be read, a size past `max_bytes` (never all of
    /dev/zero or a log pasted by mistake), or the byte that is not UTF-8, in one line."""
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise ConfigError(f"{setting} {path}: larger than {max_bytes} bytes")
    try:
        # utf-8-sig: an editor's byte order mark is no mistake of the reader's.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{setting} {path}: not UTF-8 (byte {exc.start})") from None
