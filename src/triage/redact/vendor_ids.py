"""Rules for vendors' key ids that pair with a secret and are blanked as one (Google Cloud
Storage's HMAC access ids, DigitalOcean Spaces' key ids), and the API keys after a vendor's
own scheme word wherever it stands, Okta's `SSWS`, Opsgenie's `GenieKey`, Splunk's (an
`Authorization:` header's is the header rule's, which runs first: `rules._RULES`).
"""

from __future__ import annotations

from triage.redact.rule import _END, _prefixed, _Rule, _rule

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

VENDOR_ID_RULES: tuple[_Rule, ...] = (
    # GCS HMAC access ids (GOOG1 and base32 capitals and digits, 61 characters for a service
    # account's) and DigitalOcean Spaces key ids (DO00 and 16 capitals and digits): a digit
    # among them, so that a word in capitals after the prefix stays. DO00's needle is looked
    # for folded: a `D` starts no other needle as written.
    _rule(
        rf"{_prefixed('GOOG1')}(?=[A-Z]{{0,69}}[0-9])[A-Z0-9]{{20,70}}{_END}",
        "[REDACTED:token]",
        "GOOG1",
    ),
    _rule(
        rf"{_prefixed('DO00')}(?=[A-Z]{{0,15}}[0-9])[A-Z0-9]{{16}}{_END}",
        "[REDACTED:token]",
        "do00",
        fold_needles=True,
    ),
    # Okta's API token after its scheme word outside a header (`auth=SSWS 00…`, `for SSWS
    # 00…`): a run of 20 or more base64url characters with a digit, not the word after it.
    _rule(
        rf"({_prefixed('SSWS')}[ \t]{{1,4}})(?=[A-Za-z_-]{{0,199}}[0-9])[A-Za-z0-9_-]{{20,200}}"
        rf"(?![A-Za-z0-9_-])",
        r"\1[REDACTED:token]",
        "SSWS",
    ),
    # The keys that are UUIDs after their scheme word outside a header (`with GenieKey …`):
    # Opsgenie's API key, Splunk's HTTP Event Collector token, DeepL's key (`:fx` on the free
    # plan's).
    _rule(
        rf"({_prefixed('GenieKey', 'Splunk', 'DeepL-Auth-Key')}[ \t]{{1,4}}){_UUID}"
        rf"(?::fx)?{_END}",
        r"\1[REDACTED:token]",
        "GenieKey",
        "Splunk",
        "eepL-Auth-Key",  # a `D` starts no needle as written
    ),
)
