"""``/settings-profiles`` on a resolver of its own, over the registry on moto: listing, reading, and
writes that name the version they replace (If-Match), each mistake answered naming its field."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from orgvend.account_settings.models import DEFAULT_PROFILE
from orgvend.api import errors, settings_profiles
from orgvend.api.dependencies import ApiDependencies
from orgvend.settings import Settings

from .test_api_contract import answer, api_settings, event

__all__ = ["api_settings"]  # the fixture, used here too

STRICT = {"passwordPolicy": {"minimumPasswordLength": 20}, "repair": True}
Api = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def api(api_settings: Settings, table_name: str) -> Api:
    """``api(method, path, body=None, version=None)``: the answer's status and JSON."""
    app = APIGatewayRestResolver(enable_validation=True, debug=False, json_body_deserializer=errors.read_json)
    app.include_router(settings_profiles.router)
    errors.install(app)
    provided = ApiDependencies(api_settings.model_copy(update={"registry_table_name": table_name}))

    def call(
        method: str, path: str, body: dict[str, Any] | None = None, version: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        provided.provide_to(app)
        headers = {"if-match": version} if version is not None else {}
        return answer(
            app, event(method, path, json.dumps(body) if body is not None else None, headers=headers)
        )

    return call


def test_the_built_in_default_is_listed_and_read_until_one_is_written(api: Api) -> None:
    assert api("GET", "/settings-profiles") == (
        200,
        {"items": [DEFAULT_PROFILE.model_dump(mode="json", by_alias=True)]},
    )
    assert api("GET", "/settings-profiles/default") == (
        200,
        DEFAULT_PROFILE.model_dump(mode="json", by_alias=True),
    )


def test_an_unknown_profile_is_404_naming_it(api: Api) -> None:
    status, body = api("GET", "/settings-profiles/strict")
    assert status == 404 and body["error"]["field"] == "name" and "'strict'" in body["error"]["message"]


def test_a_new_profile_is_version_1_and_each_write_the_next(api: Api) -> None:
    status, first = api("PUT", "/settings-profiles/strict", STRICT)
    assert status == 200 and first["name"] == "strict" and first["version"] == 1
    assert first["passwordPolicy"]["minimumPasswordLength"] == 20 and first["repair"] is True

    # The version as a bare number or in an ETag's quotes.
    status, second = api("PUT", "/settings-profiles/strict", {**STRICT, "repair": False}, version='"1"')
    assert (status, second["version"], second["repair"]) == (200, 2, False)
    assert api("GET", "/settings-profiles/strict") == (200, second)
    listed = api("GET", "/settings-profiles")[1]["items"]
    assert [(item["name"], item["version"]) for item in listed] == [("default", 1), ("strict", 2)]


def test_writing_over_the_built_in_default_names_its_version(api: Api) -> None:
    status, written = api(
        "PUT", "/settings-profiles/default", {"alias": "{client}-{project}-aws"}, version="1"
    )
    assert (status, written["version"], written["alias"]) == (200, 2, "{client}-{project}-aws")
    status, body = api("PUT", "/settings-profiles/default", {}, version="1")  # read before that write
    assert status == 409 and body["error"]["code"] == "SettingsProfileChanged"


@pytest.mark.parametrize(
    ("version", "code"),
    [("1", "SettingsProfileChanged"), (None, "SettingsProfileExists"), ("7", "SettingsProfileChanged")],
)
def test_a_write_from_a_stale_read_is_409_saying_to_read_again(
    api: Api, version: str | None, code: str
) -> None:
    api("PUT", "/settings-profiles/team", STRICT)
    api("PUT", "/settings-profiles/team", STRICT, version="1")
    status, body = api("PUT", "/settings-profiles/team", STRICT, version=version)
    assert status == 409 and body["error"]["code"] == code and body["error"]["field"] == "If-Match"
    assert "read it again (GET /settings-profiles/team)" in body["error"]["message"]
    assert api("GET", "/settings-profiles/team")[1]["version"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"passwordPolicy": {"minimumPasswordLength": 3}}, "passwordPolicy.minimumPasswordLength"),
        ({"ebsEncryption": {"regions": ["mars-1"]}}, "ebsEncryption.regions.0"),
        ({"alias": "{client}_{owner}"}, "alias"),
        ({"s3PublicAccessBlock": {"blockEverything": True}}, "s3PublicAccessBlock.blockEverything"),
        ({"name": "other"}, "name"),
        ({"version": 4}, "version"),
    ],
)
def test_a_bad_setting_is_422_naming_its_field(api: Api, body: dict[str, Any], field: str) -> None:
    status, answered = api("PUT", "/settings-profiles/strict", body)
    assert (status, answered["error"]["code"], answered["error"]["field"]) == (422, "ValidationError", field)
    assert api("GET", "/settings-profiles/strict")[0] == 404  # nothing written


@pytest.mark.parametrize(
    ("path", "version", "field"),
    [("/settings-profiles/Not_A_Slug", None, "name"), ("/settings-profiles/strict", "latest", "if-match")],
)
def test_a_bad_name_or_version_is_422_naming_it(api: Api, path: str, version: str | None, field: str) -> None:
    status, body = api("PUT", path, STRICT, version=version)
    assert status == 422 and body["error"]["field"] == field
