"""The settings profile an account is held to, and what applying or checking it found.

A profile is made of sections, each optional: a section that is absent (None) is left alone.
Profiles are resolved in three layers (``resolve_profile``): the stack's default, a named
profile on top of it, and a request's overrides on top of both, merged section by section so
that an override may change a single setting.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError, field_validator

from orgvend import rules
from orgvend.errors import InvalidSettingsProfile
from orgvend.models import Model, Region, Setting, SettingDrift, Slug

# Where a profile's problems are reported from: the request's field that carries the profile.
PROFILE_FIELD = "settings"


class AlternateContact(Model):
    name: str = Field(min_length=1, max_length=rules.CONTACT_NAME_MAX_LENGTH)
    title: str = Field(min_length=1, max_length=rules.CONTACT_TITLE_MAX_LENGTH)
    email: str = Field(max_length=rules.CONTACT_EMAIL_MAX_LENGTH, pattern=rules.CONTACT_EMAIL_PATTERN.pattern)
    phone: str = Field(
        min_length=1, max_length=rules.CONTACT_PHONE_MAX_LENGTH, pattern=rules.CONTACT_PHONE_PATTERN.pattern
    )


class AlternateContacts(Model):
    """Account Management's alternate contacts; an absent one is left as it is."""

    billing: AlternateContact | None = None
    operations: AlternateContact | None = None
    security: AlternateContact | None = None


class S3PublicAccessBlock(Model):
    """S3's account-level Block Public Access (all four on: nothing in the account can be made public)."""

    block_public_acls: bool = True
    ignore_public_acls: bool = True
    block_public_policy: bool = True
    restrict_public_buckets: bool = True


class EbsEncryption(Model):
    """EC2's encryption by default of new EBS volumes, a per-Region setting."""

    enabled: bool = True
    regions: list[Region] = Field(min_length=1)


class PasswordPolicy(Model):
    """IAM's account password policy, with IAM's bounds (UpdateAccountPasswordPolicy)."""

    minimum_password_length: int = Field(default=14, ge=6, le=128)
    require_symbols: bool = True
    require_numbers: bool = True
    require_uppercase_characters: bool = True
    require_lowercase_characters: bool = True
    allow_users_to_change_password: bool = True
    max_password_age: int | None = Field(default=None, ge=1, le=1095, description="Days; None: never expire.")
    password_reuse_prevention: int | None = Field(
        default=None, ge=1, le=24, description="Previous passwords refused; None: any may be reused."
    )
    hard_expiry: bool = False


class DefaultVpcs(Model):
    """The default VPC of each Region listed is deleted when it is empty (an empty one only)."""

    delete: bool = True
    regions: list[Region] = Field(min_length=1)


class SettingsProfile(Model):
    """What every account of a client is set up with; an absent section is left alone."""

    name: Slug = "default"
    version: int = Field(default=1, ge=1)
    alias: str | None = Field(
        default=None,
        description="The IAM account alias, a pattern naming {client} and {project} (e.g. {client}-{project}).",
    )
    alternate_contacts: AlternateContacts | None = None
    password_policy: PasswordPolicy | None = None
    s3_public_access_block: S3PublicAccessBlock | None = None
    opt_in_regions: list[Region] = Field(
        default_factory=list, description="Opt-in Regions enabled for the account (never disabled)."
    )
    ebs_encryption: EbsEncryption | None = None
    default_vpcs: DefaultVpcs | None = None
    repair: bool = Field(
        default=False, description="Drift found by a check is repaired (else only reported)."
    )

    @field_validator("alias")
    @classmethod
    def _alias_pattern_makes_aliases(cls, pattern: str | None) -> str | None:
        if pattern is None:
            return None
        # Three letters stand for a client and a project (slugs): IAM's characters and hyphens are checked
        # here, the length once the names are known (alias_for).
        example = _substituted(pattern, "abc", "abc")
        if "{" in example or "}" in example:
            raise ValueError(f"may name only {' and '.join(rules.ALIAS_PLACEHOLDERS)}")
        problem = rules.account_alias_problem(example)
        if problem:
            raise ValueError(f"{problem} (once {' and '.join(rules.ALIAS_PLACEHOLDERS)} are substituted)")
        return pattern

    def alias_for(self, client: str, project: str) -> str | None:
        """The account alias for this client and project, checked against IAM's rule."""
        if self.alias is None:
            return None
        alias = _substituted(self.alias, client, project)
        problem = rules.account_alias_problem(alias)
        if problem:
            raise ValueError(f"the account alias {alias!r} {problem}")
        return alias


def _substituted(pattern: str, client: str, project: str) -> str:
    return pattern.replace("{client}", client).replace("{project}", project)


DEFAULT_PROFILE = SettingsProfile(
    name="default",
    version=1,
    alias="{client}-{project}",
    password_policy=PasswordPolicy(
        minimum_password_length=14,
        max_password_age=90,
        password_reuse_prevention=24,
    ),
    s3_public_access_block=S3PublicAccessBlock(),
    ebs_encryption=EbsEncryption(enabled=True, regions=["us-east-1"]),
    default_vpcs=DefaultVpcs(delete=True, regions=["us-east-1"]),
    # Contacts are the agency's own people: no default can name them.
    alternate_contacts=None,
    opt_in_regions=[],
    repair=False,
)


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` on top, section by section; a None in ``changes`` removes the key (turns
    a section off) and a list replaces the list it meets."""
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _path(location: tuple[int | str, ...]) -> str:
    return ".".join([PROFILE_FIELD, *(str(part) for part in location)])


def resolve_profile(
    default: SettingsProfile, named: SettingsProfile | None = None, overrides: Mapping[str, Any] | None = None
) -> SettingsProfile:
    """The profile an account gets: ``default``, then what ``named`` sets, then ``overrides``.

    ``overrides`` is camelCase JSON (a request's ``settings``); each problem is named by its field's path
    (``settings.passwordPolicy.minimumPasswordLength``) in an ``InvalidSettingsProfile``.
    """
    resolved = default.to_json()
    if named is not None:
        # Only what the named profile says itself: its fields' defaults do not undo the stack's default.
        resolved = _merged(resolved, named.model_dump(mode="json", by_alias=True, exclude_unset=True))
    resolved = _merged(resolved, overrides or {})
    try:
        return SettingsProfile.model_validate(resolved)
    except ValidationError as error:
        raise InvalidSettingsProfile(
            {_path(problem["loc"]): problem["msg"] for problem in error.errors(include_url=False)}
        ) from None


class SettingResult(Model):
    """What applying one setting did."""

    setting: Setting
    changed: bool
    detail: str
    kept: list[str] = Field(
        default_factory=list,
        description="What was found and deliberately left alone (a non-empty default VPC).",
    )


class SettingsResult(Model):
    """What applying a profile did, setting by setting in the order applied."""

    profile: str
    version: int
    results: list[SettingResult] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(result.changed for result in self.results)


class SettingsCheck(Model):
    """A later look at an account: how it differs from its profile, and what was repaired (``repair``)."""

    drift: list[SettingDrift] = Field(default_factory=list)
    repaired: SettingsResult | None = Field(
        default=None, description="What applying the profile again did; None when it was not (no repair)."
    )
