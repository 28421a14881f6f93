"""Round 7's secrets fixes, part B: the neighbours of the red team's cases (commands, markup,
calls, web, positional) that the fixes take, and the near text they leave alone."""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

PASSWORD = "Xk7pL2mR9tQwE4rT"


def _left(text: str) -> bool:
    """Whether any 8-character run of `PASSWORD` is still in the redacted `text`."""
    shown = Redactor().text(text)
    return any(PASSWORD[i : i + 8] in shown for i in range(len(PASSWORD) - 7))


@pytest.mark.parametrize(
    "text",
    [
        "docker compose exec --user www-data:www-data app php artisan migrate",
        "podman run -d --name x -e A=1 -u app:app registry/img:1",
        "docker exec -it -u pg:pg db-1 psql",
        "beeline -u 'jdbc:hive2://hive.corp:10000/default' -n etl",
        "curl -b cookies.txt -c cookies.txt https://admin.corp/login",
        "curl -b $COOKIE https://admin.corp/login",
        json.dumps({"value": "eu-west-1", "variable": "REGION"}),
        json.dumps({"admin": {"sensitive": False, "type": "string", "value": "eu-west-1"}}),
        "level=info key=region value=eu-west-1",
        "argv=['app.py', '--token-file', '/var/run/secrets/token', '--queue', 'orders']",
        "$ consul kv get app/db/host\ndb-1.corp\n$ ./start.sh",
        "$ etcdctl get /app/db/password -w json\n{}\n$ ./start.sh",
        "    Command:\n      /app\n      --log-level\n      debug\n    State: Running",
    ],
)
def test_near_text_that_holds_no_secret_stays(text: str) -> None:
    """A container's user and group, a quoted JDBC URL, a cookie jar's file or variable, a
    public setting's value, an output Terraform does not mark sensitive, a token's file path,
    a key not named like a secret and etcd's JSON (base64, not the value) stay as written."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"docker run --rm -u 1000:1000 curlimages/curl -u admin:{PASSWORD} https://ci.corp",
        f"docker exec -it db-1 curl -u admin:{PASSWORD} https://ci.corp",
        f"curl -sSb 'id={PASSWORD}' https://admin.corp/jobs",
        f'{{"cmd": "curl --cookie=\\"id={PASSWORD}\\" https://admin.corp"}}',
        json.dumps({"value": PASSWORD, "variable": "DB_PASSWORD"}, sort_keys=True),
        json.dumps([{"name": "DB_PASSWORD", "slotSetting": False, "value": PASSWORD}]),
        json.dumps({"attribute": "db_password", "value": PASSWORD}),
        json.dumps(json.dumps({"setting": "password", "value": PASSWORD})),
        f"aws ecs run-task --overrides environment=[{{name=DB_PASSWORD,value={PASSWORD}}}]",
        "aws elasticbeanstalk update-environment --option-settings "
        f"Namespace=aws:rds,OptionName=DBPassword,Value={PASSWORD}",
        json.dumps({"a": {"sensitive": True, "type": ["list", "string"], "value": PASSWORD}}),
        json.dumps(json.dumps({"a": {"sensitive": True, "type": "string", "value": PASSWORD}})),
        f"SecretBytes(b'{PASSWORD}')",
        f'pulumi.secret("{PASSWORD}")',
        f'new GuardedString("{PASSWORD}".toCharArray())',
        f'let key = SecretString::from("{PASSWORD}");',
        "$ etcdctl --endpoints=http://etcd:2379 get --prefix /app/\n/app/db/host\ndb-1\n"
        f"/app/db/password\n{PASSWORD}\n/app/env\nprod\n$ ./start.sh",
        f'argv: ["/usr/bin/app", "--client-secret", "{PASSWORD}"]',
        f'{{"describe": "    Args:\\n      --db-password\\n      {PASSWORD}\\n    State: x"}}',
        f"    Command:\n      /app\n      --log-level\n      debug\n      --api-token\n"
        f"      {PASSWORD}\n    State: Running",
    ],
)
def test_a_neighbour_of_the_red_teams_cases_is_blanked(text: str) -> None:
    """The commands a container runs keep curl's login rule, curl's cookie run together with
    other short options and inside a JSON string, a name/value pair sorted with its value first,
    past a non-string member, under `attribute` or in AWS shorthand with braces, a sensitive
    output of a list type or inside a JSON string, other secret types, etcd's `--prefix`
    listing, an argument vector in JSON and kubectl's Args inside a JSON string or under
    Command: none shows the password."""
    assert not _left(text)


def test_the_structure_around_a_shorthand_value_stays() -> None:
    """The AWS shorthand's closing brace and bracket after a blanked value stay, so the command
    still reads as the structure it was."""
    text = f"--overrides environment=[{{name=DB_PASSWORD,value={PASSWORD}}}]"
    assert Redactor().text(text) == (
        "--overrides environment=[{name=DB_PASSWORD,value=[REDACTED:password]}]"
    )


def test_only_the_secret_of_an_etcd_listing_goes() -> None:
    """etcd's keys and the values of keys not named like a secret stay: only the password's
    line is blanked."""
    text = f"$ etcdctl get --prefix /app/\n/app/db/host\ndb-1\n/app/db/password\n{PASSWORD}\n$ ls"
    assert Redactor().text(text) == text.replace(PASSWORD, "[REDACTED:password]")
