"""GET /switch-roles and `orgvend switch-roles`: the registry as switch-role access, in every format."""

import configparser
import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import urllib3
from botocore.configloader import build_profile_map, raw_config_parse

from .conftest import Harness, request_for

pytestmark = pytest.mark.e2e
http = urllib3.PoolManager(retries=False, timeout=30)


def get(embedded: Harness, query: str) -> urllib3.BaseHTTPResponse:
    return http.request("GET", f"{embedded.outputs['ApiUrl']}/switch-roles?{query}")


@pytest.fixture(scope="module")
def client_accounts(embedded: Harness) -> tuple[str, list[str]]:
    client = "swr" + request_for("x")["client"][:4]
    ids = []
    for project in ("web", "api"):
        execution = embedded.wait(
            embedded.start(request_for(f"{client}{project}", client=client, project=project))
        )
        assert execution["status"] == "SUCCEEDED"
        ids.append(json.loads(execution["output"])["account"]["accountId"])
    return client, ids


def test_aws_config_profiles_for_one_client(
    embedded: Harness, client_accounts: tuple[str, list[str]]
) -> None:
    client, ids = client_accounts
    response = get(embedded, f"format=aws-config&client={client}&sourceProfile=agency")
    assert response.status == 200 and response.headers["content-type"].startswith("text/plain")
    assert "attachment" in response.headers["content-disposition"]
    config = configparser.ConfigParser()
    config.read_string(response.data.decode())
    profiles = {section: dict(config[section]) for section in config.sections()}
    assert {profile["role_arn"] for profile in profiles.values()} == {
        f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole" for account in ids
    }
    assert {profile["source_profile"] for profile in profiles.values()} == {"agency"}
    assert f"profile {client}-web" in profiles


def test_every_format_parses_back(embedded: Harness, client_accounts: tuple[str, list[str]]) -> None:
    client, ids = client_accounts
    rows = list(csv.DictReader(io.StringIO(get(embedded, f"format=csv&client={client}").data.decode())))
    assert sorted(
        row[next(k for k in row if k.lower().replace(" ", "").startswith("accountid"))] for row in rows
    ) == sorted(ids)
    document = json.loads(get(embedded, f"format=json&client={client}").data)
    assert sorted(account["accountId"] for account in document["accounts"]) == sorted(ids)
    page = get(embedded, f"format=html&client={client}").data.decode()
    links = [part.split('"')[0] for part in page.split('href="')[1:] if "switchrole" in part.split('"')[0]]
    accounts = {parse_qs(urlparse(link.replace("&amp;", "&")).query)["account"][0] for link in links}
    assert accounts == set(ids)
    bookmarks = get(embedded, f"format=bookmarks&client={client}").data.decode()
    assert bookmarks.startswith("<!DOCTYPE NETSCAPE-Bookmark-file-1>") and all(
        account in bookmarks for account in ids
    )
    extension = configparser.ConfigParser()
    extension.read_string(get(embedded, f"format=extend-switch-roles&client={client}").data.decode())
    assert {extension[section].get("aws_account_id") for section in extension.sections()} >= set(ids)


def test_bad_filters_answer_4xx(embedded: Harness) -> None:
    for query in ("format=word", "project=web", "client=Not_A_Slug", "region=mars"):
        response = get(embedded, query)
        assert 400 <= response.status < 500, (query, response.status)
        assert "error" in json.loads(response.data)


def test_the_cli_exports_too(
    embedded: Harness, client_accounts: tuple[str, list[str]], tmp_path: Path
) -> None:
    client, ids = client_accounts
    target = tmp_path / "config"
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "orgvend"),
            "--api-url",
            embedded.outputs["ApiUrl"],
            "switch-roles",
            "--client",
            client,
            "--source-profile",
            "agency",
            "--output",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    config = configparser.ConfigParser()
    config.read(target)
    assert {config[section]["role_arn"].split(":")[4] for section in config.sections()} == set(ids)


def test_sso_profiles_sign_in_through_the_embedded_portal_from_the_api_and_the_cli(
    embedded: Harness, client_accounts: tuple[str, list[str]], tmp_path: Path
) -> None:
    # The embedded stack has an Identity Center instance; template.yaml's default rules give every
    # account agency-ops with AdministratorMinusBilling (this client has no groups of its own).
    client, ids = client_accounts
    assert embedded.runtime.identity_center is not None
    portal = embedded.runtime.identity_center.portal_url
    for account_id in ids:
        answer = json.loads(http.request("GET", f"{embedded.outputs['ApiUrl']}/accounts/{account_id}").data)
        assert answer["permissionSets"] == ["AdministratorMinusBilling"]
        assert answer["access"]["portalUrl"] == portal
    target = tmp_path / "config"
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "orgvend"),
            "--api-url",
            embedded.outputs["ApiUrl"],
            "switch-roles",
            "--format",
            "aws-config-sso",
            "--client",
            client,
            "--output",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    response = get(embedded, f"format=aws-config-sso&client={client}")
    assert response.status == 200 and response.data.decode() == target.read_text()
    config = raw_config_parse(str(target))
    assert config["sso-session orgvend"]["sso_start_url"] == portal
    profiles = build_profile_map(config)["profiles"]
    assert {
        name: (profile["sso_account_id"], profile["sso_role_name"]) for name, profile in profiles.items()
    } == {
        f"{client}-web-AdministratorMinusBilling": (ids[0], "AdministratorMinusBilling"),
        f"{client}-api-AdministratorMinusBilling": (ids[1], "AdministratorMinusBilling"),
    }
