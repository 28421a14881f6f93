"""AWS's own names for a secret's value (round 3b): Secrets Manager's `SecretString` and
`SecretBinary`, and a name/value object (SSM's Parameter, a tag, an env entry) pasted as JSON
text whose value stands after other fields or before its name; read in text as
`Redactor.value` reads them as JSON.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

SECRET = "hunter2-Summer2024!"


@pytest.mark.parametrize(
    "text",
    [
        f"SecretString: {SECRET}",
        f"SecretString={SECRET}",
        json.dumps({"ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db", "SecretString": SECRET}),
        json.dumps({"SecretBinary": "aHVudGVyMi1TdW1tZXIyMDI0IQ=="}),
        json.dumps({"SecretString": json.dumps({"username": "app", "password": SECRET})}),
        f"client.put_secret_value(SecretId='db', SecretString='{SECRET}')",
        json.dumps({"msg": json.dumps({"Name": "db", "SecretString": SECRET})}),
    ],
)
def test_a_secrets_manager_value_goes_in_text(text: str) -> None:
    """GetSecretValue's answer and a call that sets one lose the secret's value, raw and inside
    a JSON string, plain or JSON itself."""
    out = Redactor().text(text)
    assert SECRET not in out and "aHVudGVyMi1" not in out


@pytest.mark.parametrize("name", ["SecretString", "SecretBinary", "secret_string"])
def test_a_secrets_manager_value_goes_as_a_json_value(name: str) -> None:
    """As a JSON key, the value goes too."""
    assert Redactor().value({name: SECRET}) == {name: "[REDACTED:password]"}


@pytest.mark.parametrize(
    "obj",
    [
        {"Parameter": {"Name": "/app/api_key", "Type": "SecureString", "Value": SECRET}},
        {"Name": "/app/db/password", "Type": "SecureString", "Version": 3, "Value": SECRET},
        {"Value": SECRET, "Name": "/app/api_key"},
        {"Value": SECRET, "Key": "db_password"},
        {"name": "DB_PASSWORD", "valueFrom": None, "value": SECRET},
        {"ParameterKey": "DbPassword", "UsePreviousValue": False, "ParameterValue": SECRET},
    ],
)
@pytest.mark.parametrize("inside_a_string", [False, True])
def test_a_name_value_object_in_text_loses_its_value_in_any_order(
    obj: dict[str, object], inside_a_string: bool
) -> None:
    """A name/value object whose name says secret, as JSON text (also inside a JSON string),
    loses its value when other fields stand between the two or the value comes first, as
    `Redactor.value` blanks it."""
    text = json.dumps(obj)
    if inside_a_string:
        text = json.dumps({"message": text})
    assert SECRET not in Redactor().text(text)
    assert SECRET not in json.dumps(Redactor().value(obj))


@pytest.mark.parametrize(
    "obj",
    [
        {"Name": "/app/region", "Type": "String", "Value": "eu-west-1"},
        {"Value": "eu-west-1", "Name": "/app/region"},
        {"Name": "/app/api_key", "Type": "SecureString", "Value": "${API_KEY}"},
        {"Name": "/app/db_password", "Type": "SecureString", "Value": "[REDACTED:password]"},
        {"Key": "team", "Value": "payments", "Owner": "ops"},
    ],
)
def test_a_name_value_object_that_names_no_secret_stays(obj: dict[str, object]) -> None:
    """A parameter named for no secret, a placeholder, a value already redacted and a tag stay
    as they are."""
    text = json.dumps(obj)
    assert Redactor().text(text) == text
