"""Settings profiles in the registry: the built-in default, versions, and writes that cannot lose a change."""

import pytest

from orgvend.account_settings.models import DEFAULT_PROFILE, PasswordPolicy, SettingsProfile
from orgvend.errors import InvalidSettingsProfile, WriteContention
from orgvend.registry import Registry


def test_the_default_is_the_built_in_one_until_written(registry: Registry) -> None:
    assert registry.get_settings_profile("default") == DEFAULT_PROFILE
    assert registry.get_settings_profile("strict") is None
    assert [profile.name for profile in registry.list_settings_profiles()] == ["default"]


def test_each_write_is_the_next_version_and_listed(registry: Registry) -> None:
    strict = SettingsProfile(name="strict", password_policy=PasswordPolicy(minimum_password_length=20))
    first = registry.put_settings_profile(strict, replacing=None)
    second = registry.put_settings_profile(first.model_copy(update={"repair": True}), replacing=first.version)

    assert (first.version, second.version) == (1, 2)
    stored = registry.get_settings_profile("strict")
    assert stored == second and stored.repair and stored.password_policy == strict.password_policy
    assert [profile.name for profile in registry.list_settings_profiles()] == ["default", "strict"]


def test_writing_over_the_default_replaces_the_built_in_one(registry: Registry) -> None:
    written = registry.put_settings_profile(
        DEFAULT_PROFILE.model_copy(update={"repair": True}), replacing=None
    )
    assert written.version == DEFAULT_PROFILE.version + 1  # after the built-in one, never the same number
    assert registry.get_settings_profile("default") == written
    assert [profile.repair for profile in registry.list_settings_profiles()] == [True]


def test_a_write_from_an_old_version_is_refused(registry: Registry) -> None:
    first = registry.put_settings_profile(SettingsProfile(name="team"), replacing=None)
    registry.put_settings_profile(first, replacing=1)
    with pytest.raises(WriteContention, match="changed since version 1"):
        registry.put_settings_profile(first, replacing=1)
    with pytest.raises(WriteContention):
        registry.put_settings_profile(SettingsProfile(name="team"), replacing=None)  # it exists now


# -- resolving a request's profile -------------------------------------------------------------------


def test_a_request_gets_the_stored_default_then_its_named_profile_then_its_overrides(
    registry: Registry,
) -> None:
    registry.put_settings_profile(
        DEFAULT_PROFILE.model_copy(update={"alias": "{project}-{client}"}), replacing=None
    )
    registry.put_settings_profile(
        SettingsProfile(name="strict", password_policy=PasswordPolicy(minimum_password_length=20)),
        replacing=None,
    )

    resolved = registry.resolve_settings_profile("strict", {"passwordPolicy": {"requireSymbols": False}})

    assert (resolved.name, resolved.version) == ("strict", 1)
    assert resolved.password_policy is not None
    assert resolved.password_policy.minimum_password_length == 20
    assert resolved.password_policy.require_symbols is False
    assert resolved.alias == "{project}-{client}"  # the stored default's, which strict does not say


def test_an_unknown_profile_or_a_bad_override_is_named_by_its_field(registry: Registry) -> None:
    with pytest.raises(InvalidSettingsProfile) as unknown:
        registry.resolve_settings_profile("nosuch")
    assert list(unknown.value.problems) == ["settingsProfile"]

    with pytest.raises(InvalidSettingsProfile) as bad:
        registry.resolve_settings_profile("default", {"passwordPolicy": {"minimumPasswordLength": 3}})
    assert list(bad.value.problems) == ["settings.passwordPolicy.minimumPasswordLength"]


@pytest.mark.parametrize("own", ["name", "version"])
def test_an_override_cannot_change_which_profile_and_version_are_recorded(
    registry: Registry, own: str
) -> None:
    with pytest.raises(InvalidSettingsProfile) as raised:
        registry.resolve_settings_profile("default", {own: 7 if own == "version" else "other"})
    assert list(raised.value.problems) == [f"settings.{own}"]


def test_a_named_profile_inherits_what_it_does_not_say_from_the_stored_default(registry: Registry) -> None:
    registry.put_settings_profile(
        DEFAULT_PROFILE.model_copy(update={"repair": True, "opt_in_regions": ["af-south-1"]}), replacing=None
    )
    registry.put_settings_profile(
        SettingsProfile.model_validate({"name": "strict", "passwordPolicy": {"minimumPasswordLength": 20}}),
        replacing=None,
    )

    resolved = registry.resolve_settings_profile("strict")

    assert resolved.password_policy is not None and resolved.password_policy.minimum_password_length == 20
    assert resolved.repair and resolved.opt_in_regions == ["af-south-1"]  # the default's, not re-defaulted
    assert (resolved.name, resolved.version) == ("strict", 1)
