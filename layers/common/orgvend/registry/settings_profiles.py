"""Settings profiles in the registry: ``SETTINGSPROFILE#<name>`` / ``PROFILE``, one item per name.

Why the registry and not a stack parameter or SSM: a profile names people (alternate contacts) and
many settings, more than a parameter holds comfortably; it is edited by operators through the API
(``PUT /settings-profiles/{name}``) without a deployment; and each write gets the next ``version``,
which the accounts' entries record, so "apply the current version to the fleet" and drift are
answered from one table orgvend already reads. A write is conditional on the version it replaces:
two operators editing the same profile cannot lose each other's change silently.

The ``default`` profile is ``account_settings.DEFAULT_PROFILE`` until an operator writes one.
"""

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from orgvend.account_settings.models import DEFAULT_PROFILE, SettingsProfile, resolve_profile
from orgvend.aws import error_code
from orgvend.clock import now
from orgvend.errors import InvalidSettingsProfile, WriteContention
from orgvend.registry.items import ACCOUNTS_INDEX, attribute_values, plain
from orgvend.registry.writes import Table

PROFILE_PREFIX = "SETTINGSPROFILE#"
PROFILES_PARTITION = "SETTINGSPROFILE"  # their partition of the Accounts index (gsi3pk)
DEFAULT_PROFILE_NAME = DEFAULT_PROFILE.name
# What a request's overrides may not change: which profile, and which version of it, the account records.
PROFILE_OWN = ("name", "version")


def profile_key(name: str) -> dict[str, Any]:
    return {"pk": {"S": f"{PROFILE_PREFIX}{name}"}, "sk": {"S": "PROFILE"}}


class SettingsProfiles(Table):
    """The settings profiles: read by name, listed, written with the next version."""

    def get_settings_profile(self, name: str) -> SettingsProfile | None:
        """The stored profile ``name``; the built-in default for ``default`` when none was written."""
        response = self._dynamodb.get_item(TableName=self._table, Key=profile_key(name), ConsistentRead=True)
        if "Item" not in response:
            return DEFAULT_PROFILE if name == DEFAULT_PROFILE_NAME else None
        return _profile_of(plain(response["Item"]))

    def resolve_settings_profile(
        self, name: str, overrides: Mapping[str, Any] | None = None
    ) -> SettingsProfile:
        """The profile an account gets: the stack's default (as stored), the profile ``name``, a request's
        ``overrides``; ``InvalidSettingsProfile`` naming the request's field (``settingsProfile``, or the
        override's path) otherwise."""
        fixed = {
            f"settings.{key}": "is the profile's own, not a setting"
            for key in PROFILE_OWN
            if key in (overrides or {})
        }
        if fixed:
            raise InvalidSettingsProfile(fixed)
        named = self.get_settings_profile(name)
        if named is None:
            raise InvalidSettingsProfile({"settingsProfile": f"there is no settings profile named {name!r}"})
        default = named if name == DEFAULT_PROFILE_NAME else self.get_settings_profile(DEFAULT_PROFILE_NAME)
        return resolve_profile(default or DEFAULT_PROFILE, named, overrides)

    def list_settings_profiles(self) -> list[SettingsProfile]:
        """Every stored profile, and the built-in default unless one was written over it."""
        found: dict[str, SettingsProfile] = {DEFAULT_PROFILE_NAME: DEFAULT_PROFILE}
        # A Query on the Accounts index's own partition for profiles: it reads only the profiles.
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            IndexName=ACCOUNTS_INDEX,
            KeyConditionExpression="gsi3pk = :profiles",
            ExpressionAttributeValues={":profiles": {"S": PROFILES_PARTITION}},
        ):
            for item in page.get("Items", []):
                profile = _profile_of(plain(item))
                found[profile.name] = profile
        return sorted(found.values(), key=lambda profile: profile.name)

    def put_settings_profile(self, profile: SettingsProfile, *, replacing: int | None) -> SettingsProfile:
        """Store ``profile`` as the next version of its name. ``replacing``: the stored version the writer
        read (None: nothing stored yet, a new name or the built-in default, whose first stored version
        comes after the built-in one's); WriteContention when someone wrote in between."""
        before = replacing if replacing is not None else _built_in_version(profile.name)
        written = profile.model_copy(update={"version": before + 1})
        item = {
            **profile_key(profile.name),
            **attribute_values(
                {
                    # What the writer said, not the fields' defaults: a named profile that says
                    # nothing of ``repair`` or ``optInRegions`` keeps inheriting the default's.
                    "profile": {
                        **written.model_dump(
                            mode="json", by_alias=True, exclude_unset=True, exclude_none=True
                        ),
                        "name": written.name,
                        "version": written.version,
                    },
                    "updatedAt": now().isoformat(),
                    "gsi3pk": PROFILES_PARTITION,
                    "gsi3sk": profile.name,
                }
            ),
        }
        try:
            if replacing is None:
                self._dynamodb.put_item(
                    TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            else:
                self._dynamodb.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="#profile.#version = :version",
                    ExpressionAttributeNames={"#profile": "profile", "#version": "version"},
                    ExpressionAttributeValues={":version": {"N": str(replacing)}},
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise WriteContention(
                    f"settings profile {profile.name!r} changed since version {replacing}: read it again"
                ) from None
            raise
        return written


def _built_in_version(name: str) -> int:
    return DEFAULT_PROFILE.version if name == DEFAULT_PROFILE_NAME else 0


def _profile_of(item: dict[str, Any]) -> SettingsProfile:
    return SettingsProfile.model_validate(item["profile"])
