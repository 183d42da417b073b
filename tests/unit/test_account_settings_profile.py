"""Settings profiles (orgvend.account_settings.models): what they accept, and how the layers merge."""

import pytest

from orgvend.account_settings.models import (
    DEFAULT_PROFILE,
    AlternateContact,
    AlternateContacts,
    PasswordPolicy,
    SettingsProfile,
    resolve_profile,
)
from orgvend.errors import InvalidSettingsProfile

SECURITY = {"name": "Agency SOC", "title": "Security", "email": "soc@agency.example", "phone": "+1 555 0100"}


def test_the_default_profile_is_the_agencys_baseline() -> None:
    assert DEFAULT_PROFILE.alias_for("acme", "web") == "acme-web"
    assert DEFAULT_PROFILE.s3_public_access_block is not None
    assert DEFAULT_PROFILE.ebs_encryption is not None and DEFAULT_PROFILE.ebs_encryption.regions == [
        "us-east-1"
    ]
    assert DEFAULT_PROFILE.default_vpcs is not None and DEFAULT_PROFILE.default_vpcs.delete
    assert DEFAULT_PROFILE.password_policy is not None
    assert DEFAULT_PROFILE.password_policy.minimum_password_length >= 14
    assert DEFAULT_PROFILE.alternate_contacts is None  # the agency's own people: no default
    assert DEFAULT_PROFILE.opt_in_regions == []
    assert DEFAULT_PROFILE.repair is False


def test_resolving_nothing_on_top_is_the_default() -> None:
    assert resolve_profile(DEFAULT_PROFILE) == DEFAULT_PROFILE


def test_a_named_profile_changes_only_what_it_says() -> None:
    named = SettingsProfile.model_validate(
        {
            "name": "regulated",
            "version": 3,
            "passwordPolicy": {"minimumPasswordLength": 20},
            "alternateContacts": {"security": SECURITY},
            "repair": True,
        }
    )

    profile = resolve_profile(DEFAULT_PROFILE, named)

    assert (profile.name, profile.version, profile.repair) == ("regulated", 3, True)
    assert profile.password_policy == PasswordPolicy(
        minimum_password_length=20, max_password_age=90, password_reuse_prevention=24
    )
    assert profile.alternate_contacts == AlternateContacts(security=AlternateContact.model_validate(SECURITY))
    # Sections it does not name are the default's.
    assert profile.ebs_encryption == DEFAULT_PROFILE.ebs_encryption
    assert profile.alias == "{client}-{project}"


def test_an_override_changes_one_setting_of_a_section() -> None:
    profile = resolve_profile(
        DEFAULT_PROFILE, overrides={"passwordPolicy": {"maxPasswordAge": 30}, "s3PublicAccessBlock": None}
    )

    assert profile.password_policy is not None and profile.password_policy.max_password_age == 30
    assert profile.password_policy.minimum_password_length == 14  # the rest of the section is kept
    assert profile.s3_public_access_block is None  # null turns a section off


def test_an_override_list_replaces_the_list() -> None:
    profile = resolve_profile(
        DEFAULT_PROFILE, overrides={"ebsEncryption": {"regions": ["eu-west-1", "eu-central-1"]}}
    )

    assert profile.ebs_encryption is not None
    assert profile.ebs_encryption.regions == ["eu-west-1", "eu-central-1"]


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"passwordPolicy": {"minimumPasswordLength": 5}}, "settings.passwordPolicy.minimumPasswordLength"),
        ({"passwordPolicy": {"minimumPasswordLength": 129}}, "settings.passwordPolicy.minimumPasswordLength"),
        ({"passwordPolicy": {"maxPasswordAge": 1096}}, "settings.passwordPolicy.maxPasswordAge"),
        (
            {"passwordPolicy": {"passwordReusePrevention": 25}},
            "settings.passwordPolicy.passwordReusePrevention",
        ),
        ({"ebsEncryption": {"regions": ["Europe"]}}, "settings.ebsEncryption.regions.0"),
        ({"defaultVpcs": {"regions": []}}, "settings.defaultVpcs.regions"),
        ({"optInRegions": ["af-south-1", "mars"]}, "settings.optInRegions.1"),
        ({"alias": "{client}_{project}"}, "settings.alias"),
        ({"alias": "{client}--{project}"}, "settings.alias"),
        ({"alias": "{account}-{project}"}, "settings.alias"),
        (
            {"alternateContacts": {"billing": {**SECURITY, "email": "nope"}}},
            "settings.alternateContacts.billing.email",
        ),
        (
            {"alternateContacts": {"billing": {**SECURITY, "phone": "call me"}}},
            "settings.alternateContacts.billing.phone",
        ),
        ({"alternateContacts": {"billing": {"name": "Ann"}}}, "settings.alternateContacts.billing.title"),
        ({"s3PublicAccessBlock": {"blockEverything": True}}, "settings.s3PublicAccessBlock.blockEverything"),
        ({"version": 0}, "settings.version"),
    ],
)
def test_a_bad_value_is_named_by_its_path(overrides: dict[str, object], path: str) -> None:
    with pytest.raises(InvalidSettingsProfile) as raised:
        resolve_profile(DEFAULT_PROFILE, overrides=overrides)

    assert path in raised.value.problems
    assert str(raised.value).startswith(path)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidSettingsProfile) as raised:
        resolve_profile(
            DEFAULT_PROFILE,
            overrides={"passwordPolicy": {"minimumPasswordLength": 1, "maxPasswordAge": 0}},
        )

    assert set(raised.value.problems) == {
        "settings.passwordPolicy.minimumPasswordLength",
        "settings.passwordPolicy.maxPasswordAge",
    }


def test_an_alias_too_long_for_its_client_and_project_is_refused_once_they_are_known() -> None:
    profile = resolve_profile(DEFAULT_PROFILE, overrides={"alias": "agency-{client}-{project}-workloads"})

    assert profile.alias_for("acme", "web") == "agency-acme-web-workloads"
    with pytest.raises(ValueError, match="3 to 63 characters"):
        profile.alias_for("c" * 24, "p" * 24)


def test_a_profile_round_trips_through_its_json() -> None:
    assert SettingsProfile.model_validate(DEFAULT_PROFILE.to_json()) == DEFAULT_PROFILE
