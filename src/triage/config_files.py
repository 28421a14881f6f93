"""An operator's configuration file (the routes file, the patterns file) read as text and
parsed as TOML: one ConfigError line, naming the setting and the path, for each way it cannot
be read or parsed."""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from triage.errors import ConfigError


def read_text(path: Path, setting: str, max_bytes: int) -> str:
    """`path`'s text: the OS's reason it cannot be read, what it is when it is no regular
    file (a FIFO would hold start-up until something writes to it), a size past `max_bytes`,
    the byte that is not UTF-8, or that it is empty (a config map's key missing), in one
    line."""
    try:
        # Non-blocking: opening a FIFO with no writer would otherwise wait for one, for good.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: {exc.strerror or exc}") from None
    try:
        _check_regular(os.fstat(fd).st_mode, path, setting)
    except ConfigError:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        try:
            raw = file.read(max_bytes + 1)
        except OSError as exc:
            raise ConfigError(f"{setting} {path}: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise ConfigError(f"{setting} {path}: larger than {max_bytes} bytes")
    try:
        # utf-8-sig: an editor's byte order mark is no mistake of the reader's.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{setting} {path}: not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise ConfigError(f"{setting} {path}: empty (unset {setting} to go without one)")
    return text


def _check_regular(mode: int, path: Path, setting: str) -> None:
    """A ConfigError saying what `path` is, unless it is a regular file (a symbolic link to
    one, as a mounted config map's, is followed)."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{setting} {path}: {os.strerror(errno.EISDIR)}")
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise ConfigError(f"{setting} {path}: not a regular file ({kind})")


def parse_toml(text: str, where: str, hint: str = "") -> dict[str, Any]:
    """`text` parsed as TOML; a ConfigError starting with `where` (the setting and the path)
    for a syntax error (with `hint`, such as " (routes files are TOML)", after "not valid
    TOML") or for arrays or inline tables nested past Python's stack, which tomllib does not
    refuse in its own words but with a RecursionError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML{hint}: {exc}") from None
    except RecursionError:
        raise ConfigError(
            f"{where}: not valid TOML{hint}: arrays or inline tables nested too deeply"
        ) from None
