"""A key-shaped value after a name whose last word is `key` goes in every form the name is
written: an XML element or attribute, a command-line flag with its value after a space, an
HTTP header, a YAML block scalar, a Java properties line and a table's column or row; a
cache's, a sort's, an S3 object's or an idempotency key with an ordinary value stays in the
same forms.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()
X = "[REDACTED:password]"
#: A key as a generator writes one: upper and lower case and digits.
KEY = "Zk3q9WmX2pLr8TvB4nYc7Hd1"
#: A key in hex, 40 characters.
HEX = "a" * 8 + "0" * 24 + "f" * 8


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


KEY_FORMS = [
    # XML elements: camel case, a separator's name, a namespace, attributes.
    (f"<hmacKey>{KEY}</hmacKey>", f"<hmacKey>{X}</hmacKey>"),
    (f"<SigningKey>{KEY}</SigningKey>", f"<SigningKey>{X}</SigningKey>"),
    (f"<consumer_key>{HEX}</consumer_key>", f"<consumer_key>{X}</consumer_key>"),
    (
        f"<ALGOLIA_ADMIN_KEY>{KEY}</ALGOLIA_ADMIN_KEY>",
        f"<ALGOLIA_ADMIN_KEY>{X}</ALGOLIA_ADMIN_KEY>",
    ),
    (
        f'<ns:clientKey enc="b64">{KEY}</ns:clientKey>',
        f'<ns:clientKey enc="b64">{X}</ns:clientKey>',
    ),
    # … pretty-printed, the text on a line of its own (a secret's name too).
    (f"<hmacKey>\n  {KEY}\n</hmacKey>", f"<hmacKey>\n  {X}\n</hmacKey>"),
    (
        f"<c>\n  <password>\n    {KEY}\n  </password>\n</c>",
        f"<c>\n  <password>\n    {X}\n  </password>\n</c>",
    ),
    # Command-line flags, the value after a space or `=`, quoted or not.
    (f"run --hmac-key {KEY} now", f"run --hmac-key {X} now"),
    (f"run -signing-key {KEY}", f"run -signing-key {X}"),
    (f"run --consumer-key {HEX}", f"run --consumer-key {X}"),
    (f"run --algolia-admin-key '{KEY}'", f"run --algolia-admin-key '{X}'"),
    (f"run --api-key={KEY}", f"run --api-key={X}"),
    (f"run --hmac-key={KEY}", f"run --hmac-key={X}"),
    (f"run --hmac_key {KEY}", f"run --hmac_key {X}"),
    # A flag in camel case (PowerShell's `-SigningKey`, `--hmacKey`).
    (f"Connect-Thing -SigningKey {KEY}", f"Connect-Thing -SigningKey {X}"),
    (f"tool --hmacKey {KEY} -v", f"tool --hmacKey {X} -v"),
    # Dockerfile's ENV and ARG, the value after a space.
    (f"ENV HMAC_KEY {KEY}", f"ENV HMAC_KEY {X}"),
    (f"RUN true\nENV consumer_key {HEX}\n", f"RUN true\nENV consumer_key {X}\n"),
    # XML's key= or name= attribute naming the key, its value in value= or the element's text.
    (f'<add key="hmacKey" value="{KEY}"/>', f'<add key="hmacKey" value="{X}"/>'),
    (f'<entry key="consumer_key">{KEY}</entry>', f'<entry key="consumer_key">{X}</entry>'),
    (f'<property name="hmac.key" value="{HEX}"/>', f'<property name="hmac.key" value="{X}"/>'),
    # HTTP headers, however the name is cased.
    (f"X-Signing-Key: {KEY}", f"X-Signing-Key: {X}"),
    (f"X-Hmac-Key: {KEY}", f"X-Hmac-Key: {X}"),
    (f"x-hmac-key: {KEY}", f"x-hmac-key: {X}"),
    (f"Consumer_Key={KEY}", f"Consumer_Key={X}"),
    # YAML's block scalars.
    (f"hmac_key: |\n  {KEY}\n", f"hmac_key: |\n  {X}\n"),
    (f"consumer_key: >-\n  {KEY}\n", f"consumer_key: >-\n  {X}\n"),
    (f"hmacKey: |\n    {KEY}\n", f"hmacKey: |\n    {X}\n"),
    # … and inside a JSON string, its line breaks escaped.
    (json.dumps({"m": f"hmac_key: |\n  {KEY}\n"}), json.dumps({"m": f"hmac_key: |\n  {X}\n"})),
    # Java properties, spaces around `=`.
    (f"consumer.key = {KEY}", f"consumer.key = {X}"),
    (f"hmac.key  =  {KEY}", f"hmac.key  =  {X}"),
]


@pytest.mark.parametrize(("text", "expected"), KEY_FORMS)
def test_a_key_shaped_value_after_a_key_name_goes_in_every_form(text: str, expected: str) -> None:
    """A key after `…_key`, `…Key` or `…-key` goes as XML, a flag, a header, YAML or properties."""
    assert _redacted(text) == expected


ORDINARY = [
    "run --cache-key user:42",
    "run --cache-key user:42:profile --sort-key createdAt",
    "<sortKey>createdAt</sortKey>",
    "<Key>uploads/a.png</Key>",
    "<Key>uploads/2026/12/05/app-logs-0001.gz</Key>",
    "<ListBucketResult><Contents><Key>logs/2026/12/05/app.log</Key></Contents></ListBucketResult>",
    "<partitionKey>tenant-42</partitionKey>",
    "<sortKey>\n  createdAt\n</sortKey>",
    "<description>\n  disk full on db-1\n</description>",
    "X-Idempotency-Key: 9b2c6f1e-8d4a-4c1b-9e7f-2a3b4c5d6e7f",
    "X-Cache-Key: GET:/api/v1/users",
    "cache_key: |\n  user:42:profile\n",
    "sort.key = createdAt",
    "tool --sortKey createdAt -CacheKey user:42",
    "ENV CACHE_KEY user:42:profile",
    '<add key="cacheKey" value="user:42:profile"/>',
    '<entry key="sort_key">createdAt</entry>',
    "aws s3 cp s3://b/k . --sse-c-key-md5 present --object-key uploads/report-final.pdf",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_key_in_these_forms_stays(text: str) -> None:
    """A cache's, sort's, S3 object's or idempotency key keeps an ordinary value in every form."""
    assert _redacted(text) == text


KEY_TABLES = [
    (f"name,consumer_key,team\nacme,{KEY},pay\n", f"name,consumer_key,team\nacme,{X},pay\n"),
    (f"name\thmac_key\nacme\t{HEX}\n", f"name\thmac_key\nacme\t{X}\n"),
    (
        f"| name | hmac_key |\n|---|---|\n| acme | {KEY} |\n",
        f"| name | hmac_key |\n|---|---|\n| acme | {X} |\n",
    ),
    (f"| consumer_key | {KEY} |\n", f"| consumer_key | {X} |\n"),
    # A secret's column beside a key's: both go, the key's only as a key.
    (
        f"user,password,consumer_key,cache_key\nbob,opal-kettle-42,{KEY},user:42\n",
        f"user,password,consumer_key,cache_key\nbob,{X},{X},user:42\n",
    ),
    (f"<tr><td>hmacKey</td><td>{KEY}</td></tr>", f"<tr><td>hmacKey</td><td>{X}</td></tr>"),
]


@pytest.mark.parametrize(("text", "expected"), KEY_TABLES)
def test_a_key_shaped_cell_under_a_key_column_goes(text: str, expected: str) -> None:
    """A key-shaped cell under (or beside) a `…_key` or `…Key` column goes in CSV, TSV and tables."""
    assert _redacted(text) == expected


ORDINARY_TABLES = [
    "name,cache_key,sort_key\nacme,user:42:profile,createdAt\n",
    "| bucket | objectKey |\n|---|---|\n| acme-logs | uploads/2026/report-final.pdf |\n",
    "| idempotency_key | 9b2c6f1e-8d4a-4c1b-9e7f-2a3b4c5d6e7f |\n",
    "Key,Value\nteam,payments\n",
]


@pytest.mark.parametrize("text", ORDINARY_TABLES)
def test_an_ordinary_cell_under_a_key_column_stays(text: str) -> None:
    """A cache's, sort's, object's or idempotency key column keeps its ordinary cells."""
    assert _redacted(text) == text
