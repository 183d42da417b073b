"""Switch-role links end to end: computed from the registry's role, client and project, never stored.

An account moved to another client and project in Organizations (its tags, followed by the
TagResource event), or one whose registry item still carries a link stored by an older orgvend
(here naming a role the account no longer uses): the API's account and list, every format of
GET /switch-roles and the CLI all show the link of the account as the registry has it now.
"""

import configparser
import csv
import io
import json
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from boto3.dynamodb.types import TypeSerializer

from orgvend_cli.main import main

from .conftest import Harness, request_for
from .events import api_call

pytestmark = pytest.mark.e2e
http = urllib3.PoolManager(retries=False, timeout=30)

SWITCH_ROLE_ENDPOINT = "https://signin.aws.amazon.com/switchrole"
ROLE = "OrganizationAccountAccessRole"


def get(embedded: Harness, path: str) -> urllib3.BaseHTTPResponse:
    response = http.request("GET", embedded.outputs["ApiUrl"] + path)
    assert response.status == 200, (path, response.status, response.data[:500])
    return response


def query_of(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == SWITCH_ROLE_ENDPOINT, link
    return {name: value[0] for name, value in parse_qs(parts.query, strict_parsing=True).items()}


class Hrefs(HTMLParser):
    def __init__(self, content: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.feed(content)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith(SWITCH_ROLE_ENDPOINT):
            self.links.append(href)


def cli(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return out.getvalue()


def every_link(embedded: Harness, account_id: str, client: str) -> dict[str, dict[str, str]]:
    """The account's switch-role link in every output that shows one, as its query parameters."""
    api = embedded.outputs["ApiUrl"]
    account = json.loads(get(embedded, f"/accounts/{account_id}").data)
    [listed] = json.loads(get(embedded, f"/accounts?client={client}").data)["items"]
    assert listed["accountId"] == account_id
    exports = f"/switch-roles?client={client}&format="
    [csv_row] = csv.DictReader(io.StringIO(get(embedded, exports + "csv").data.decode(), newline=""))
    [json_entry] = json.loads(get(embedded, exports + "json").data)["accounts"]
    [page_link] = Hrefs(get(embedded, exports + "html").data.decode()).links
    [bookmark] = Hrefs(get(embedded, exports + "bookmarks").data.decode()).links
    [detail] = [
        line.split()[-1]
        for line in cli("--api-url", api, "account", account_id).splitlines()
        if line.startswith("Switch role")
    ]
    [cli_csv] = csv.DictReader(
        io.StringIO(cli("--api-url", api, "--format", "csv", "accounts", "--client", client))
    )
    links = {
        "GET /accounts/{id}": account["switchRoleUrl"],
        "GET /accounts": listed["switchRoleUrl"],
        "csv": csv_row["switchRoleUrl"],
        "json": json_entry["switchRoleUrl"],
        "html": page_link,
        "bookmarks": bookmark,
        "orgvend account": detail,
        "orgvend accounts --format csv": cli_csv["switchRoleUrl"],
    }
    assert all(row["accountId"] == account_id for row in (csv_row, json_entry, cli_csv))
    # The exports add the client's console colour; the rest is the same link.
    colours = {query_of(links[name]).pop("color", None) for name in ("csv", "json", "html", "bookmarks")}
    assert len(colours) == 1 and None not in colours
    return {name: {k: v for k, v in query_of(link).items() if k != "color"} for name, link in links.items()}


def profiles(embedded: Harness, client: str, fmt: str) -> list[dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(get(embedded, f"/switch-roles?client={client}&format={fmt}").data.decode())
    return [dict(parser[section]) | {"section": section} for section in parser.sections()]


def onboarded(embedded: Harness, unique: str) -> str:
    execution = embedded.wait(embedded.start(request_for(unique)))
    assert execution["status"] == "SUCCEEDED", execution
    return str(json.loads(execution["output"])["account"]["accountId"])


def follow_tags(embedded: Harness, account_id: str, tags: dict[str, str]) -> None:
    """Tag the account in Organizations and deliver the TagResource event CloudTrail would."""
    embedded.client("organizations").tag_resource(
        ResourceId=account_id, Tags=[{"Key": key, "Value": value} for key, value in tags.items()]
    )
    embedded.put_event(
        api_call(
            "TagResource",
            {"resourceId": account_id, "tags": [{"key": key, "value": value} for key, value in tags.items()]},
        )
    )


def test_an_account_moved_to_another_client_and_project_links_under_its_new_name(
    embedded: Harness, unique: str
) -> None:
    account_id = onboarded(embedded, unique)
    before = {"account": account_id, "roleName": ROLE, "displayName": f"c{unique}/web"}
    links = every_link(embedded, account_id, f"c{unique}")
    assert links == dict.fromkeys(links, before)

    follow_tags(embedded, account_id, {"client": f"n{unique}", "project": "data"})
    embedded.eventually(
        lambda: (
            (item := embedded.account_item(account_id))
            and (item["client"], item["project"]) == (f"n{unique}", "data")
        ),
        what="the account moved to its new client and project",
    )

    after = {"account": account_id, "roleName": ROLE, "displayName": f"n{unique}/data"}
    links = every_link(embedded, account_id, f"n{unique}")
    assert links == dict.fromkeys(links, after)
    [profile] = profiles(embedded, f"n{unique}", "aws-config")
    assert profile["section"] == f"profile n{unique}-data"
    assert "switchRoleUrl" not in embedded.account_item(account_id)
    assert json.loads(get(embedded, f"/accounts?client=c{unique}").data)["items"] == []


def test_an_item_that_stored_a_link_for_an_old_role_links_to_the_role_it_names(
    embedded: Harness, unique: str
) -> None:
    account_id = onboarded(embedded, unique)
    # The item as an older orgvend left it after the access role was renamed: the stored link names
    # the old role, the roleName attribute the new one.
    item = embedded.account_item(account_id)
    assert item is not None and "switchRoleUrl" not in item
    stale = f"{SWITCH_ROLE_ENDPOINT}?account={account_id}&roleName={ROLE}&displayName=old%2Fname"
    item |= {"roleName": "RenamedAccessRole", "switchRoleUrl": stale}
    serializer = TypeSerializer()
    embedded.client("dynamodb").put_item(
        TableName=embedded.outputs["RegistryTableName"],
        Item={name: serializer.serialize(value) for name, value in item.items()},
    )

    expected = {"account": account_id, "roleName": "RenamedAccessRole", "displayName": f"c{unique}/web"}
    links = every_link(embedded, account_id, f"c{unique}")
    assert links == dict.fromkeys(links, expected)
    [extension] = [p for p in profiles(embedded, f"c{unique}", "extend-switch-roles") if "role_name" in p]
    assert extension["role_name"] == "RenamedAccessRole"

    # The next write of the whole entry (a sync: the cost-center tag) stores it without the link.
    follow_tags(embedded, account_id, {"cost-center": "7"})
    written = embedded.eventually(
        lambda: (
            (found := embedded.account_item(account_id)) and found["tags"].get("cost-center") == "7" and found
        ),
        what="the tag synced",
    )
    assert "switchRoleUrl" not in written and written["version"] > item["version"]
    assert written["roleName"] == "RenamedAccessRole"
    links = every_link(embedded, account_id, f"c{unique}")
    assert links == dict.fromkeys(links, expected)
