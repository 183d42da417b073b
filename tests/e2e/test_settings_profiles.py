"""Settings profiles end to end: the HTTP API on the embedded AWS (written, read back, refused naming the
field, refused from a stale version) and `orgvend settings` against it; an account's applied settings
in `GET /accounts/{id}` and `orgvend account`.

Each test writes profiles of its own name: the registry is shared by the session, and ``default`` is
what every onboarding gets, so it is never written here.
"""

import json
import re
from pathlib import Path

import pytest

from .conftest import Harness, request_for
from .test_api import call, finished, onboard
from .test_cli import cli

pytestmark = pytest.mark.e2e

STRICT = {
    "alias": "{client}-{project}-aws",
    "passwordPolicy": {"minimumPasswordLength": 20},
    "ebsEncryption": {"regions": ["us-east-1", "eu-west-1"]},
    "repair": True,
}


def test_put_then_get_and_list(embedded: Harness, unique: str) -> None:
    name = f"p{unique}"
    status, written = call(embedded, "PUT", f"/settings-profiles/{name}", STRICT)
    assert status == 200, written
    assert (written["name"], written["version"], written["repair"]) == (name, 1, True)
    assert written["passwordPolicy"]["minimumPasswordLength"] == 20
    assert written["ebsEncryption"] == {"enabled": True, "regions": ["us-east-1", "eu-west-1"]}

    status, second = call(
        embedded, "PUT", f"/settings-profiles/{name}", {**STRICT, "repair": False}, {"If-Match": "1"}
    )
    assert (status, second["version"], second["repair"]) == (200, 2, False)
    assert call(embedded, "GET", f"/settings-profiles/{name}") == (200, second)

    status, listed = call(embedded, "GET", "/settings-profiles")
    versions = {item["name"]: item["version"] for item in listed["items"]}
    assert status == 200 and versions[name] == 2 and "default" in versions


def test_an_unknown_profile_is_404(embedded: Harness, unique: str) -> None:
    status, body = call(embedded, "GET", f"/settings-profiles/p{unique}")
    assert status == 404 and body["error"]["field"] == "name"


def test_a_bad_setting_is_422_naming_it_and_writes_nothing(embedded: Harness, unique: str) -> None:
    name = f"p{unique}"
    bad = {**STRICT, "passwordPolicy": {"minimumPasswordLength": 200}}
    status, body = call(embedded, "PUT", f"/settings-profiles/{name}", bad)
    assert status == 422 and body["error"]["field"] == "passwordPolicy.minimumPasswordLength", body
    assert call(embedded, "GET", f"/settings-profiles/{name}")[0] == 404


def test_a_stale_version_is_409_and_keeps_the_newer_write(embedded: Harness, unique: str) -> None:
    name = f"p{unique}"
    call(embedded, "PUT", f"/settings-profiles/{name}", STRICT)
    call(embedded, "PUT", f"/settings-profiles/{name}", {**STRICT, "repair": False}, {"If-Match": "1"})

    status, body = call(embedded, "PUT", f"/settings-profiles/{name}", STRICT, {"If-Match": "1"})
    assert (
        status == 409
        and body["error"]["code"] == "SettingsProfileChanged"
        and body["error"]["field"] == "If-Match"
    )
    assert "read it again" in body["error"]["message"]
    status, kept = call(embedded, "GET", f"/settings-profiles/{name}")
    assert (kept["version"], kept["repair"]) == (2, False)


def test_the_cli_round_trip(embedded: Harness, unique: str, tmp_path: Path) -> None:
    api = embedded.outputs["ApiUrl"]
    name = f"p{unique}"
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(STRICT), encoding="utf-8")

    first = cli("--api-url", api, "settings", "put", name, "--file", str(profile))
    assert first.code == 0, first.err
    assert f"settings profile {name}: version 1" in first.err
    assert re.search(r"^  minimumPasswordLength: 20$", first.out, re.MULTILINE)

    # Edited from `settings show --format json`: its version is where the edit started.
    shown = cli("--api-url", api, "settings", "show", name, "--format", "json")
    edited = {**json.loads(shown.out), "repair": False}
    profile.write_text(json.dumps(edited), encoding="utf-8")
    second = cli("--api-url", api, "settings", "put", name, "--file", str(profile))
    assert second.code == 0 and "version 2" in second.err, second.err

    # The same file again: written from version 1, which is no longer the stored one.
    stale = cli("--api-url", api, "settings", "put", name, "--file", str(profile))
    assert stale.code == 1 and stale.out == ""
    assert "SettingsProfileChanged (HTTP 409)" in stale.err and "hint: someone wrote" in stale.err

    listed = cli("--api-url", api, "settings", "profiles")
    assert listed.code == 0 and re.search(rf"^{name}\s+2\s+", listed.out, re.MULTILINE), listed.out
    text = cli("--api-url", api, "settings", "show", name)
    assert "repair: false" in text.out and "alternateContacts: (left alone)" in text.out
    as_csv = cli("--api-url", api, "settings", "show", name, "--format", "csv").out.splitlines()
    assert "passwordPolicy.minimumPasswordLength,20" in as_csv

    bad = cli("--api-url", api, "settings", "put", name, "--file", str(tmp_path / "missing.json"))
    assert bad.code == 2 and "cannot read" in bad.err


def test_an_account_shows_the_settings_applied_to_it(embedded: Harness, unique: str) -> None:
    account_id = finished(embedded, onboard(embedded, request_for(unique)))["accountId"]
    embedded.client("dynamodb").update_item(
        TableName=embedded.outputs["RegistryTableName"],
        Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET settings = :settings",
        ExpressionAttributeValues={
            ":settings": {
                "M": {
                    "profile": {"S": "strict"},
                    "version": {"N": "3"},
                    "appliedAt": {"S": "2026-01-02T03:04:05+00:00"},
                    "changed": {"L": [{"S": "alias"}]},
                    "kept": {"L": [{"S": "vpc-0123 in us-east-1"}]},
                }
            }
        },
    )
    status, account = call(embedded, "GET", f"/accounts/{account_id}")
    assert (
        status == 200 and account["settings"]["profile"] == "strict" and account["settings"]["version"] == 3
    )

    shown = cli("--api-url", embedded.outputs["ApiUrl"], "account", account_id)
    assert re.search(
        r"^Settings\s+strict version 3, applied 2026-01-02 03:04(:05)? UTC; kept: vpc-0123 in us-east-1$",
        shown.out,
        re.MULTILINE,
    ), shown.out
