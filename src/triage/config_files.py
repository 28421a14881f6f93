"""An operator's configuration file (the routes file, the patterns file) read as text and
parsed as TOML, and a credential read from a file: one ConfigError line, naming the setting
and the path, for each way it cannot be read or parsed."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from triage.errors import ConfigError

#: The byte order marks a UTF-16 file starts with (little and big endian).
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def read_text(path: Path, setting: str, max_bytes: int) -> str:
    """`path`'s text: the OS's reason it cannot be read, what it is when it is no regular
    file (a FIFO would hold start-up until something writes to it), a size past `max_bytes`,
    the byte that is not UTF-8 (or that it is UTF-16), or that it is empty (a config map's key missing), in one
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
        if raw.startswith(_UTF16_MARKS):
            # Windows editors' "Unicode": every byte of it would be read as a mistake.
            raise ConfigError(
                f"{setting} {path}: not UTF-8 but UTF-16 (its byte order mark): save it as UTF-8"
            ) from None
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


#: The most a credential's file holds: a token, a webhook URL, a JSON object of tokens.
MAX_SECRET_BYTES = 64 * 1024


def read_secret(path: Path, setting: str) -> str:
    """The credential in the file `setting` (a `<VARIABLE>_FILE`) names, without the line
    break an editor or `echo` leaves at its end (LF or CRLF): read as the routes file is, so
    a missing, empty or non-UTF-8 file is one line naming `setting` and never what it holds."""
    return read_text(path, setting, MAX_SECRET_BYTES).rstrip("\r\n")


#: A line a YAML document starts with and TOML has none of: `---`, a list item, `key:`.
_YAML_LINE = re.compile(r"---\s*|- \S.*|[A-Za-z_][\w.-]*:(?:\s.*)?")


def _other_format(text: str) -> str | None:
    """ "JSON" or "YAML" when `text` reads as one of them (its first line that is neither blank
    nor a comment is YAML's, or the whole parses as JSON), else None: the format a file not
    valid TOML was written in, when people often write that one instead."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        pass
    else:
        return "JSON"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return "YAML" if _YAML_LINE.fullmatch(stripped) else None
    return None


def parse_toml(text: str, where: str, hint: str = "") -> dict[str, Any]:
    """`text` parsed as TOML; a ConfigError starting with `where` (the setting and the path)
    for a syntax error (with `hint`, such as " (routes files are TOML)", after "not valid
    TOML"; a file that reads as JSON or YAML says so, rather than where TOML's parser
    stumbled on it) or for arrays or inline tables nested past Python's stack, which tomllib
    does not refuse in its own words but with a RecursionError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        other = _other_format(text)
        if other is not None:
            raise ConfigError(
                f"{where}: not valid TOML{hint}: it reads as {other}, which is not read; write "
                "the same tables in TOML ([table], key = value)"
            ) from None
        raise ConfigError(f"{where}: not valid TOML{hint}: {exc}") from None
    except RecursionError:
        raise ConfigError(
            f"{where}: not valid TOML{hint}: arrays or inline tables nested too deeply"
        ) from None
