"""gcloud's command lines that name Secret Manager secrets without holding their values: a
name the rules read as a secret's stands before a reference (`--set-secrets=DB_PASS=
db-password:latest`), which stays."""

from __future__ import annotations

import re

from triage.redact.rule import _random_looking

#: gcloud on the option's line, before it.
_GCLOUD = re.compile(r"(?<![\w-])gcloud(?![\w-])[^\n]{0,512}\Z")

#: gcloud's option that maps variables (or mounted files) to Secret Manager secrets, and the
#: items of its list before the one being read (`--set-secrets=DB_PASS=db-password:latest,`),
#: and the variable's name, or the part of it before a rule's match (`REDIS_` of `REDIS_AUTH`).
_SECRETS_MAPPING_BEFORE = re.compile(
    r"--(?:set|update)-secrets(?:=|[ \t]{1,3})[\"']?(?:[\w./-]{1,256}=[\w/-]{1,512}:\w{1,32},){0,64}"
    r"[\w./-]{0,256}=?\Z"
)
#: One item's reference: a secret's id (or its full name) and its version.
_SECRET_REFERENCE = re.compile(
    r"(?:projects/[\w-]{1,128}/secrets/)?(?P<id>[A-Za-z0-9_-]{1,255}):(?:latest|\d{1,10})"
)


def gcloud_secret_reference(text: str, value_at: int, value: str) -> bool:
    """Whether `value`, at `value_at` in `text`, is a reference in gcloud's `--set-secrets`
    (`--update-secrets`) list: `DB_PASS=db-password:latest` maps a variable to the secret a
    service reads, by its id and version, and holds no value. Its item's variable may be part
    of `value` (a pair read from the option's name) or before it; a random-looking id is no
    name a person gave, and goes."""
    item = value.strip("\"'")
    name_end = item.find("=")
    reference = _SECRET_REFERENCE.fullmatch(item, name_end + 1)
    if reference is None or _random_looking(reference["id"]):
        return False
    line_start = text.rfind("\n", 0, value_at) + 1
    return (
        _SECRETS_MAPPING_BEFORE.search(text, line_start, value_at) is not None
        and _GCLOUD.search(text, line_start, value_at) is not None
    )
