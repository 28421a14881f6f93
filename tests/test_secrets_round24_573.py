"""Round 24 (helper 573): a Go `%+v` password whose capitalised word and colon read as the next
field (`Password:correct Horse:battery Host:db`); PHP var_dump's string whose `string(n)` a pair
rule took for the value (Xdebug's `'password' =>`, a joined `["password":protected]=>`, a name
a log wrote before the dump) and whose length told the secret's; LaunchDarkly's API access
tokens (`api-<uuid>`); then, hunted: NATS nkey seeds, RTMP stream keys, curl's `-su user:pw`,
macaroons, Grafana OnCall's integration URLs. Each goes while ordinary text around it stays,
and on every way out (the egress audit's rig)."""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from recording_pipeline import POLICY
from test_egress_audit_509 import PLACES, Secret, egress
from triage.incidents.sqlite import SQLiteStore
from triage.redact import Redactor

P = "[REDACTED:password]"
T = "[REDACTED:token]"
_RANDOM = random.Random(573)
_ALNUM = string.ascii_letters + string.digits


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


def _random(count: int) -> str:
    return "".join(_RANDOM.choice(_ALNUM) for _ in range(count))


def _uuid() -> str:
    return str(uuid.UUID(int=_RANDOM.getrandbits(128), version=4))


# --- Go's %+v: a passphrase's capitalised word before a colon ----------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "{User:bob Password:correct Horse:battery99 Host:db}",
            f"{{User:bob Password:{P} Host:db}}",
        ),
        (
            "&{Addr:db:5432 Password:tr0ub4dor Staple:x Horse2:y Network:tcp DB:0}",
            f"&{{Addr:db:5432 Password:{P} Network:tcp DB:0}}",
        ),
        ("{Password:correct Horse:battery Staple:z}", f"{{Password:{P}}}"),
    ],
    ids=["before-host", "word-and-digits", "to-the-brace"],
)
def test_a_go_passphrase_with_a_capitalised_word_and_colon_goes_whole(
    given: str, shown: str
) -> None:
    """A `%+v` password's words shaped as one-word fields no config names (`Horse:`, `Horse2:`)
    go with it, to a field config structs name (`Host`, `Network`) or the brace."""
    assert _text(given) == shown


def test_the_fields_config_structs_name_after_a_go_password_stay() -> None:
    """One-word fields a driver's or client's config names (pgx, go-redis, go-sql-driver,
    net/url) and compound or initialism names after a password stay."""
    given = (
        "{Password:x Host:db Port:5432 Database:app User:u Timeout:5s Network:tcp Addr2:y "
        "TLSConfig:<nil> MaxRetries:3 DB:0 Params:map[] Loc:UTC Protocol:3 Username:svc}"
    )
    assert _text(given) == given.replace("Password:x", f"Password:{P}")


# --- PHP's var_dump: the string, not its type, and not its length -------------------------------

DUMPED = _random(14)
XDEBUG = (
    f"array(2) {{\n  'user' =>\n  string(3) \"bob\"\n  'password' =>\n  string(14) \"{DUMPED}\"\n}}"
)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (XDEBUG, XDEBUG.replace(f'string(14) "{DUMPED}"', f'string(19) "{P}"')),
        (
            f'class App\\Db#3 (1) {{\n  protected $password =>\n  string(14) "{DUMPED}"\n}}',
            f'class App\\Db#3 (1) {{\n  protected $password =>\n  string(19) "{P}"\n}}',
        ),
        (
            f'object(App\\Db)#3 (2) {{ ["password":protected]=> string(14) "{DUMPED}" '
            '["port":protected]=> int(5432) }',
            f'object(App\\Db)#3 (2) {{ ["password":protected]=> string(19) "{P}" '
            '["port":protected]=> int(5432) }',
        ),
        (
            f'array(1) {{\n  ["password"]=>\n  string(14) "{DUMPED}"\n}}',
            f'array(1) {{\n  ["password"]=>\n  string(19) "{P}"\n}}',
        ),
    ],
    ids=["xdebug-key", "xdebug-property", "protected-joined", "plain"],
)
def test_a_var_dumps_secret_string_goes_and_its_type_and_name_stay(given: str, shown: str) -> None:
    """The string goes inside its quotes; `string(n)` stays a type, its length the
    placeholder's (the secret's length is not told), and `:protected]=>` stays."""
    assert _text(given) == shown


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            f'password => string(14) "{DUMPED}"',
            f'password => string(19) "{P}"',
        ),
        (
            f'$db_password = string(14) "{DUMPED}"',
            f'$db_password = string(19) "{P}"',
        ),
        (
            'dump: user => string(3) "bob" password => string(6) "ab" cd" ttl => string(2) "60"',
            f'dump: user => string(3) "bob" password => string(19) "{P}" ttl => string(2) "60"',
        ),
        (
            '["password"]=> string(7) "pässwd" ["user"]=> string(3) "bob"',
            f'["password"]=> string(19) "{P}" ["user"]=> string(3) "bob"',
        ),
        ('["password"]=> string(40) "cut sh', f'["password"]=> string(19) "{P}'),
    ],
    ids=["bare-name", "php-variable", "by-its-length", "multibyte-length", "never-closed"],
)
def test_a_var_dump_under_a_name_a_log_wrote_goes_to_its_length(given: str, shown: str) -> None:
    """A dump after a name a log wrote (`password => `, `$password = `) loses its string, which
    ends where its byte length says (a `" ` inside it too), or at the line's end if cut short;
    the elements after it stay."""
    assert _text(given) == shown


def test_a_var_dump_inside_a_json_string_ends_at_its_length() -> None:
    """Inside a JSON string (`\\"` and `\\\\` escapes), the string's length is read on the
    characters the escapes stand for: the next element stays and the JSON still parses."""
    dump = 'array(2) {\n  ["password"]=>\n  string(6) "a"b c\\"\n  ["user"]=>\n  string(3) "bob"\n}'
    shown = _text(json.dumps({"m": dump}))
    assert json.loads(shown) == {
        "m": f'array(2) {{\n  ["password"]=>\n  string(19) "{P}"\n  ["user"]=>\n  string(3) "bob"\n}}'
    }


def test_a_var_dumps_other_strings_stay() -> None:
    """A string under no secret's name, a type's word in prose, and `int(n)` stay."""
    given = (
        'note: string(5) "hello" ["ttl"]=> string(4) "3600" ["x"]=> int(1) '
        'user => string(3) "bob" the string(s) here'
    )
    assert _text(given) == given


# --- LaunchDarkly's API access tokens -----------------------------------------------------------


def test_a_launchdarkly_api_token_goes_and_its_public_mobile_key_stays() -> None:
    """`api-<uuid>` (a personal or service access token) goes bare, in a header and in a URL's
    path; a mobile key (`mob-<uuid>`, public by LaunchDarkly's docs) and a name ending in
    `-api-<uuid>` (a resource's name and id) stay."""
    token, mobile, named = _uuid(), _uuid(), _uuid()
    given = (
        f"ld token api-{token} rejected; LD_MOBILE_KEY=mob-{mobile}; svc orders-api-{named} healthy"
    )
    assert _text(given) == given.replace(f"api-{token}", T)
    assert T in _text(f"curl -H 'Authorization: api-{token}' https://app.launchdarkly.com")


# --- hunted this round: NATS nkey seeds, stream keys, curl's clustered -u ------------------------

_BASE32 = string.ascii_uppercase + "234567"


def _seed(kind: str) -> str:
    """A seed as nkeys encodes one: S, the kind's letter, A, then 55 of base32."""
    return "S" + kind + "A" + "".join(_RANDOM.choice(_BASE32) for _ in range(55))


def test_a_nats_nkey_seed_goes_and_its_public_key_stays() -> None:
    """An nkey seed (S, the kind's letter, A, 55 of base32) goes in a .creds file's block and
    after a name; a public key (U…, 56 characters) and a word in capitals stay."""
    seed, account = _seed("U"), _seed("A")
    public = "U" + "".join(_RANDOM.choice(_BASE32) for _ in range(55))
    given = (
        f"-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        f"NATS_ACCOUNT_SEED={account} user {public} SUBSCRIPTION_LIMIT_EXCEEDED"
    )
    shown = _text(given)
    assert seed not in shown and account not in shown
    assert public in shown and "SUBSCRIPTION_LIMIT_EXCEEDED" in shown


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "rtmp://a.rtmp.youtube.com/live2/ab1d-efgh-ijkl-mn0p-qrst",
            f"rtmp://a.rtmp.youtube.com/live2/{T}",
        ),
        (
            'ffmpeg -f flv "rtmps://live-api-s.facebook.com:443/rtmp/FB-1234567890-0-AbCdEf" -y',
            f'ffmpeg -f flv "rtmps://live-api-s.facebook.com:443/rtmp/{T}" -y',
        ),
        (
            "publish to rtmp://live.twitch.tv/app/live_123456789_yX2HVAR9t1e0e6aahPvTGo6wApCQlv",
            f"publish to rtmp://live.twitch.tv/app/{T}",
        ),
        ("stream key live_123456789_yX2HVAR9t1e0e6aahPvTGo6wApCQlv", f"stream key {T}"),
    ],
    ids=["youtube", "facebook", "twitch-url", "twitch-bare"],
)
def test_a_stream_key_goes_and_the_servers_address_stays(given: str, shown: str) -> None:
    """An RTMP URL's last path segment (the stream key) goes, its host and application stay;
    Twitch's `live_<id>_<30>` goes bare too."""
    assert _text(given) == shown


def test_a_stream_name_and_words_after_live_stay() -> None:
    """A stream named by a word (`live/stream`, `live/cam01`) and `live_` in prose stay."""
    given = "rtmp://media.example.com/live/stream rtmp://10.0.0.5:1935/live/cam01 live_events_on"
    assert _text(given) == given


@pytest.mark.parametrize(
    "flags", ["-su", "-sSu", "-fsSLku", "-s -o /dev/null -ku"], ids=["su", "sSu", "fsSLku", "ku"]
)
def test_curls_user_after_its_clustered_flags_loses_its_password(flags: str) -> None:
    """curl's `-u user:password` glued after flags that take no value (`-su`) loses the
    password as `-u` alone does; the user and the URL stay."""
    given = f"/usr/bin/curl {flags} admin:x1KcmxWCZoyMVP http://es:9200/_cluster/health"
    assert _text(given) == given.replace("x1KcmxWCZoyMVP", P)


def test_clustered_flags_ending_in_u_outside_curl_stay() -> None:
    """Another command's `-fu a:b` (ps, sort) and a container's `-itu 1000:1000` stay."""
    given = "curl -s http://x; ps -fu root:wheel; sort -su a:b; docker run -itu 1000:1000 img"
    assert _text(given) == given


# --- macaroons and Grafana OnCall's integration URLs ----------------------------------------------


def _v2_macaroon() -> bytes:
    """A v2 macaroon's bytes as LND bakes one: location `lnd`, an identifier, a signature."""
    identifier = bytes(_RANDOM.randrange(256) for _ in range(40))
    signature = bytes(_RANDOM.randrange(256) for _ in range(32))
    return (
        b"\x02\x01\x03lnd\x02" + bytes([len(identifier)]) + identifier + b"\x00\x06\x20" + signature
    )


def test_a_macaroon_goes_as_hex_and_as_base64() -> None:
    """A v2 macaroon as hex (gRPC's `macaroon` metadata, `lncli`) and as base64, and a v1 one
    as base64 (`MDAx…location`), go; the text around them stays."""
    v2 = _v2_macaroon()
    v1 = base64.urlsafe_b64encode(
        b"0019location http://x/\n0015identifier " + _random(20).encode() + b"\n"
    ).decode()
    given = (
        f"grpc-metadata-macaroon: {v2.hex()} rejected; "
        f"juju macaroon {base64.b64encode(v2).decode()} and {v1} expired"
    )
    assert _text(given) == (
        f"grpc-metadata-macaroon: {T} rejected; juju macaroon {T} and {T} expired"
    )


def test_runs_shaped_as_a_macaroon_whose_bytes_are_none_stay() -> None:
    """Hex that starts `0201` and base64 that starts `MDA` or `AgE`, whose bytes do not start
    as a macaroon (a location of control bytes; no `location` after v1's length), stay."""
    given = "id 020103aabbcc" + "00" * 50 + " blob " + base64.b64encode(b"0012345678" * 8).decode()
    assert _text(given) == given


def test_a_grafana_oncall_integration_token_goes() -> None:
    """Grafana OnCall's integration URL keeps its host and kind and loses its token."""
    token = _random(25)
    given = (
        f"POST https://oncall-prod-us-central-0.grafana.net/oncall/integrations/v1/webhook/{token}/"
    )
    assert _text(given) == given.replace(token, T)


# --- every way out ------------------------------------------------------------------------------


def _secrets() -> list[Secret]:
    passphrase = _random(12)
    dumped, joined, token = _random(15), _random(15), _uuid()
    seed, stream, curled = _seed("U"), f"{_random(4)}-{_random(4)}-{_random(4)}-7x9q", _random(14)
    macaroon, oncall = _v2_macaroon().hex(), _random(25)
    return [
        Secret(
            "go-passphrase",
            f"redis: dial failed opts=&{{Addr:cache:6379 Password:correct Horse:{passphrase} DB:0}}",
            (passphrase,),
        ),
        Secret(
            "xdebug-var-dump",
            f"array(1) {{\n  'db_password' =>\n  string(15) \"{dumped}\"\n}}",
            (dumped,),
        ),
        Secret(
            "var-dump-bare-name",
            f'config password => string(15) "{joined}" host => string(2) "db"',
            (joined,),
        ),
        Secret("launchdarkly-api", f"LaunchDarkly 401 for api-{token}", (token,)),
        Secret("nkey-seed", f"nats: bad seed {seed}", (seed[2:],)),
        Secret(
            "rtmp-stream-key",
            f"ffmpeg: rtmp://a.rtmp.youtube.com/live2/{stream} Broken pipe",
            (stream,),
        ),
        Secret("curl-clustered-u", f"curl -fsSu admin:{curled} http://es:9200", (curled,)),
        Secret("lnd-macaroon", f"lnd: macaroon {macaroon} denied", (macaroon[60:120],)),
        Secret(
            "grafana-oncall",
            f"https://oncall.example.com/integrations/v1/alertmanager/{oncall}/ 403",
            (oncall,),
        ),
    ]


SECRETS = _secrets()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "egress.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


@pytest.mark.parametrize("place", ["description", "annotation-value", "nested-value"])
@pytest.mark.parametrize("secret", SECRETS, ids=[s.name for s in SECRETS])
async def test_this_rounds_leaks_leave_the_process_by_no_path(
    store: SQLiteStore, tmp_path: Path, secret: Secret, place: str
) -> None:
    """Each class closed this round reaches no sink, prompt, log, metric, operator or CLI line,
    status page or record at rest, from an alert's description, annotation or nested value."""
    body, attributes = PLACES[place](secret.text)
    shown = await egress(store, tmp_path / "egress.db", body, attributes)
    assert shown.leaks(secret) == []


@pytest.mark.parametrize(
    "text",
    [
        "Evaluating secrets:\n=> Object\nEvaluating String:\n=> 'API_TOKEN'\nResult: 'main'",
        "Loading secrets:\n=> 3 found\nChecking Vault:\n=> 'DB_PASSWORD' Result: 'ok'",
    ],
)
def test_a_secret_name_in_a_json_string_does_not_take_the_lines_after_it(text: str) -> None:
    """Go's `%+v` is one line: a secret's name with a colon inside a JSON object's string (a
    CI log's `Evaluating secrets:`) takes no value over the string's escaped line breaks to
    the object's brace (round 24's one-word fields let it run there: CI failed on it)."""
    assert Redactor().text(json.dumps({"log": text})) == json.dumps({"log": text})


def test_a_go_struct_in_a_json_string_still_loses_its_password_before_a_line_break() -> None:
    """A Go struct logged in a JSON string, a line after it: the password goes, its
    passphrase's field-shaped word with it, and the next line stays."""
    text = "cfg &{Host:db Password:correct Horse:battery}\nnext Status: ok"
    shown = Redactor().text(json.dumps({"log": text}))
    assert "battery" not in shown and "correct" not in shown
    assert "Host:db" in shown and "\\nnext Status: ok" in shown
