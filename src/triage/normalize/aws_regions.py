"""AWS Region display names → Region codes, for classic CloudWatch alarm messages that carry only
the display name ("US East (N. Virginia)") and no alarm ARN.

Names are those of botocore's endpoints.json plus the older "EU (…)" spellings CloudWatch still
sends; lookups ignore case and spacing. A Region added later is not fatal: the caller falls back
to the display name and notes it.

`console_host` gives a Region's console origin in its partition's own domain (China, GovCloud),
or none for a partition whose console is not known here: links never send a responder to a
console that does not hold the resource.
"""

from __future__ import annotations

import re

REGION_CODES: dict[str, str] = {
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "Africa (Cape Town)": "af-south-1",
    "Asia Pacific (Hong Kong)": "ap-east-1",
    "Asia Pacific (Taipei)": "ap-east-2",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Asia Pacific (Seoul)": "ap-northeast-2",
    "Asia Pacific (Osaka)": "ap-northeast-3",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Asia Pacific (Hyderabad)": "ap-south-2",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Jakarta)": "ap-southeast-3",
    "Asia Pacific (Melbourne)": "ap-southeast-4",
    "Asia Pacific (Malaysia)": "ap-southeast-5",
    "Asia Pacific (New Zealand)": "ap-southeast-6",
    "Asia Pacific (Thailand)": "ap-southeast-7",
    "Canada (Central)": "ca-central-1",
    "Canada West (Calgary)": "ca-west-1",
    "Europe (Frankfurt)": "eu-central-1",
    "Europe (Zurich)": "eu-central-2",
    "Europe (Stockholm)": "eu-north-1",
    "Europe (Milan)": "eu-south-1",
    "Europe (Spain)": "eu-south-2",
    "Europe (Ireland)": "eu-west-1",
    "Europe (London)": "eu-west-2",
    "Europe (Paris)": "eu-west-3",
    "EU (Frankfurt)": "eu-central-1",
    "EU (Zurich)": "eu-central-2",
    "EU (Stockholm)": "eu-north-1",
    "EU (Milan)": "eu-south-1",
    "EU (Spain)": "eu-south-2",
    "EU (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "EU (Paris)": "eu-west-3",
    "Israel (Tel Aviv)": "il-central-1",
    "Middle East (UAE)": "me-central-1",
    "Middle East (Bahrain)": "me-south-1",
    "Mexico (Central)": "mx-central-1",
    "South America (Sao Paulo)": "sa-east-1",
    "South America (São Paulo)": "sa-east-1",
    # Not commercial, but CloudWatch alarms there send the same messages.
    "China (Beijing)": "cn-north-1",
    "China (Ningxia)": "cn-northwest-1",
    "AWS GovCloud (US-East)": "us-gov-east-1",
    "AWS GovCloud (US-West)": "us-gov-west-1",
}

_BY_KEY = {"".join(name.lower().split()): code for name, code in REGION_CODES.items()}
_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def region_code(display_name: str) -> str | None:
    """The code for a display name (a code such as "eu-west-1" passes through); None if unknown."""
    key = "".join(display_name.lower().split())
    if key in _BY_KEY:
        return _BY_KEY[key]
    if key.count("-") >= 2 and key[-1].isdigit() and set(key) <= _CODE_CHARS:
        return key
    return None


#: Region-code prefixes of the partitions whose console triage knows (their own domains); a
#: Region of any other partition (ISO, the European Sovereign Cloud) gets no console link.
_CHINA = "cn-"
_GOVCLOUD = "us-gov-"
#: The prefixes of the commercial partition's Regions, whose console is aws.amazon.com.
_COMMERCIAL = ("af-", "ap-", "ca-", "eu-", "il-", "me-", "mx-", "sa-", "us-")
#: Isolated partitions' Regions start like commercial ones ("us-iso-east-1", "eu-isoe-west-1").
_ISOLATED = re.compile(r"^[a-z]{2}-iso[a-z]?-")


def console_host(region: str) -> str | None:
    """The AWS console's origin for a Region code, in its partition's own domain: the
    commercial console holds no China, GovCloud or isolated Region's resources, and a link
    there is a dead end. None for a Region of a partition whose console is not known here
    (ISO, the European Sovereign Cloud) or a value that is no Region code."""
    if region_code(region) != region or _ISOLATED.match(region):
        return None
    if region.startswith(_CHINA):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith(_GOVCLOUD):
        return "https://console.amazonaws-us-gov.com"
    if region.startswith(_COMMERCIAL):
        return f"https://{region}.console.aws.amazon.com"
    return None
