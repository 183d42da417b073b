"""Pydantic models for every input and output of the workflow's steps.

JSON on the wire (workflow state, events, API bodies) is camelCase; Python is
snake_case. ``Model`` does the translation once for all of them.
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from orgvend import rules, switch_role
from orgvend.clock import now


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The camelCase JSON form that Step Functions and the API carry."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _checked(problem_of: Callable[[str], str | None]) -> AfterValidator:
    def check(value: str) -> str:
        problem = problem_of(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


Slug = Annotated[str, _checked(rules.slug_problem)]
AccountEmail = Annotated[str, _checked(rules.email_problem)]
AccountName = Annotated[str, _checked(rules.account_name_problem)]
RoleName = Annotated[str, _checked(rules.role_name_problem)]
AccountId = Annotated[str, Field(pattern=rules.ACCOUNT_ID_PATTERN.pattern)]
OuId = Annotated[str, Field(pattern=rules.OU_ID_PATTERN.pattern)]
TagKey = Annotated[str, _checked(rules.tag_key_problem)]
TagValue = Annotated[str, _checked(rules.tag_value_problem)]
BillingMode = Literal["consolidated", "direct"]
# CreateAccount's IamUserAccessToBilling.
BillingAccess = Literal["ALLOW", "DENY"]
OffboardingMode = Literal["detach", "close"]


def _a_number(value: Any) -> Any:
    """An amount comes as a JSON number (or a Decimal, from the registry): never a string or a boolean."""
    if isinstance(value, bool | str):
        raise ValueError("must be a number of US dollars (a JSON number, such as 250 or 99.95)")
    return value


def _json_number(value: Decimal) -> int | float:
    """An amount as JSON writes it: a whole number of dollars as an integer, else the float that prints as
    its two decimals (250.5 -> 250.5; DynamoDB stores it back as that Decimal, orgvend.registry.items)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _checked_amount(value: Decimal) -> Decimal:
    problem = rules.monthly_budget_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# An account's monthly cost budget in US dollars (orgvend.budgets): more than 0, cents at most, a ceiling.
MonthlyBudgetUsd = Annotated[
    Decimal,
    BeforeValidator(_a_number),
    AfterValidator(_checked_amount),
    PlainSerializer(_json_number, when_used="json"),
    WithJsonSchema(
        {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": int(rules.MONTHLY_BUDGET_MAX_USD),
            "description": "US dollars a month: more than 0, at most two decimals.",
        }
    ),
]
BudgetAlertEmail = Annotated[str, _checked(rules.budget_alert_email_problem)]
# An amount as Budgets reports it (a budget changed by hand may hold any): a JSON number, unchecked.
UsdAmount = Annotated[
    Decimal, PlainSerializer(_json_number, when_used="json"), WithJsonSchema({"type": "number"})
]


def usd(amount: Decimal) -> str:
    """An amount for people: 250, 99.95 (whole dollars without cents, else two decimals)."""
    if not amount.is_finite():
        return str(amount)
    cents = amount.quantize(rules.CENT)
    return str(int(cents)) if cents == cents.to_integral_value() else f"{cents:.2f}"


class AccountStatus(StrEnum):
    """Lifecycle of a registry entry."""

    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    NEEDS_ROLE = "NEEDS_ROLE"  # a member without the access role: the operators must create it
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    DETACHED = "DETACHED"  # left the organization; the record is kept
    # Moved out of orgvend's managed scope (the OU subtree under ClientsParentOuId): kept, and nothing
    # more is done to it; moved back in, it is adopted again.
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


class OnboardingStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ExecutionStatus(StrEnum):
    """A workflow run's status: Step Functions' execution statuses (GET /onboardings?status=)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"  # a redrive was accepted and has not started yet


# Ended without succeeding: such a run may be redriven from the step that failed.
FAILED_EXECUTION_STATUSES = frozenset(
    {ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED}
)
FINISHED_EXECUTION_STATUSES = FAILED_EXECUTION_STATUSES | {ExecutionStatus.SUCCEEDED}


GroupName = Annotated[str, _checked(rules.group_name_problem)]
PermissionSetName = Annotated[str, _checked(rules.permission_set_problem)]


class AccessRequest(Model):
    """An assignment a request adds to the access rules: a group of the Identity Store, a kept permission set."""

    group: GroupName
    permission_set: PermissionSetName


class AccessAssignment(Model):
    """One account assignment orgvend made in IAM Identity Center: a group, a permission set, why."""

    group: str
    group_id: str
    permission_set: str
    permission_set_arn: str
    rule: str = Field(description="The access rule (or 'request') the assignment comes from.")

    @property
    def key(self) -> tuple[str, str]:
        return self.group_id, self.permission_set_arn


class AccountAccess(Model):
    """People's access to an account through IAM Identity Center; ``$.access`` in the workflow."""

    configured: bool = Field(description="False when the stack names no Identity Center instance.")
    portal_url: str | None = Field(default=None, description="The AWS access portal's URL.")
    sso_region: str | None = Field(default=None, description="The Identity Center instance's Region.")
    assignments: list[AccessAssignment] = Field(default_factory=list)
    missing_groups: list[str] = Field(
        default_factory=list,
        description="Groups the rules name that the Identity Store does not have: reported, never created "
        "(unless the stack's CreateMissingGroups says so).",
    )
    created: int = Field(default=0, description="Assignments this run created (0 on a second run).")
    removed: int = Field(default=0, description="Assignments this run removed (a client or project change).")
    offboarded: list[AccessAssignment] = Field(
        default_factory=list,
        description="Assignments an offboarding removed before the account left (assignments is then empty).",
    )

    @property
    def permission_sets(self) -> list[str]:
        """The permission sets the account offers through the portal, in the order orgvend keeps them."""
        offered = {assignment.permission_set for assignment in self.assignments}
        return [name for name in rules.KEPT_PERMISSION_SETS if name in offered]


class AccountRequest(Model):
    """A new account as anyone may ask for it, at every door (HTTP, EventBridge, the workflow)."""

    client: Slug
    project: Slug
    email: AccountEmail
    account_name: AccountName | None = None
    role_name: RoleName | None = None
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    iam_user_access_to_billing: BillingAccess = Field(
        default="DENY",
        description="ALLOW lets the account's IAM identities see its bills: only for billing direct, "
        "where the client pays AWS itself (an agency-billed account's bills are the organization's).",
    )
    billing: BillingMode = Field(
        default="consolidated",
        description="consolidated: the organization pays and shares discounts; "
        "direct: the client pays AWS itself, so RI / Savings Plans sharing is turned off for the account.",
    )
    monthly_budget_usd: MonthlyBudgetUsd | None = Field(
        default=None,
        description="The account's monthly cost budget in US dollars (alerts at 80 % of the actual cost and "
        "100 % of the forecast). Default: the client's default (PUT /clients/{client}/budget), else the "
        "stack's DefaultMonthlyBudgetUsd.",
    )
    budget_alert_email: BudgetAlertEmail | None = Field(
        default=None,
        description="Who gets the budget's alerts beside the operators: the client's contact (default: the "
        "account's email).",
    )

    @field_validator("tags")
    @classmethod
    def _leave_room_for_orgvend_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        limit = rules.MAX_TAGS_PER_ACCOUNT - len(rules.RESERVED_TAG_KEYS)
        if len(tags) > limit:
            raise ValueError(
                f"at most {limit} tags (orgvend adds {', '.join(sorted(rules.RESERVED_TAG_KEYS))})"
            )
        return tags

    @model_validator(mode="after")
    def _default_account_name_fits(self) -> "AccountRequest":
        if self.account_name is None:
            problem = rules.account_name_problem(f"{self.client}-{self.project}")
            if problem:
                raise ValueError(f"accountName: the default <client>-<project> {problem}")
        return self

    @model_validator(mode="after")
    def _billing_access_only_when_direct(self) -> "AccountRequest":
        if self.iam_user_access_to_billing == "ALLOW" and self.billing != "direct":
            raise ValueError(
                "iamUserAccessToBilling: ALLOW is only for billing direct (the client pays AWS itself); "
                "an agency-billed account's bills, payment methods and credits are the organization's"
            )
        return self


class SettingsRequest(Model):
    """The settings profile a request asks for (orgvend.account_settings): a named profile on top of the
    stack's default, and single settings overridden on top of both."""

    settings_profile: Slug = Field(
        default="default",
        description="The settings profile the account is set up with (see /settings-profiles).",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings overridden for this account, in the profile's JSON form "
        '(e.g. {"passwordPolicy": {"minimumPasswordLength": 16}}); null turns a section off.',
    )


class OnboardRequest(AccountRequest, SettingsRequest):
    """What an operator may ask for through the API (``POST /accounts``), and the workflow's own checks."""

    account_id: AccountId | None = Field(
        default=None, description="Adopt this existing member account (inside orgvend's scope) instead."
    )
    ou: OuId | None = Field(
        default=None,
        description="Place the account in this OU (inside orgvend's scope) instead of the client's own OU.",
    )
    keep_ou: bool | None = Field(
        default=None,
        description="Adoption only: leave the account in its current OU (the default when adopting); "
        "false moves it into its client's OU (or ``ou``).",
    )
    access: list[AccessRequest] = Field(
        default_factory=list,
        max_length=20,
        description="Assignments in IAM Identity Center on top of the stack's access rules: a group of the "
        "Identity Store and one of the permission sets orgvend keeps.",
    )

    @model_validator(mode="after")
    def _placement_is_consistent(self) -> "OnboardRequest":
        if self.keep_ou and not self.account_id:
            raise ValueError(
                "keepOu: a new account is created at the organization's root, outside orgvend's scope; "
                "it is always placed (in its client's OU, or in ou)"
            )
        if self.keep_ou and self.ou:
            raise ValueError("keepOu: cannot keep the account's OU and move it into ou at once")
        return self


class OnboardingRequest(OnboardRequest):
    """The onboarding workflow's input: a request and who made it (set by the door it came through)."""

    requested_by: str | None = Field(
        default=None,
        max_length=2048,
        description="Who asked: the API's caller, or the event's account and source.",
    )


class ExecutionContext(Model):
    """Step Functions' context object, as the first state passes it on."""

    id: str
    name: str
    start_time: datetime


class Onboarding(SettingsRequest):
    """A validated request with every default resolved; ``$.onboarding`` in the workflow."""

    onboarding_id: str
    execution_arn: str
    started_at: datetime
    mode: Literal["create", "adopt"]
    client: Slug
    project: Slug
    email: AccountEmail
    account_name: AccountName
    role_name: RoleName
    tags: dict[str, str]
    iam_user_access_to_billing: BillingAccess
    billing: BillingMode = "consolidated"
    account_id: AccountId | None = None
    ou: OuId | None = None
    keep_ou: bool = False
    access: list[AccessRequest] = Field(default_factory=list)
    requested_by: str | None = None
    # The request's budget (orgvend.budgets); none: CreateBudget resolves the client's or the stack's default.
    monthly_budget_usd: MonthlyBudgetUsd | None = None
    budget_alert_email: BudgetAlertEmail | None = None


class CreationState(StrEnum):
    WAITING_FOR_SLOT = "WAITING_FOR_SLOT"  # orgvend's own: all creation slots are taken
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Creation(Model):
    """Where account creation stands; ``$.creation`` in the workflow."""

    request_id: str | None = None
    state: CreationState
    account_id: AccountId | None = None
    failure_reason: str | None = None
    polls: int = 0
    recovered: bool = Field(
        default=False,
        description="True when a retried CreateAccount's account was found by its email.",
    )


class Placement(Model):
    ou_id: str
    ou_name: str
    moved: bool


class Baseline(Model):
    role_arn: str
    policy_arn: str
    changed: bool
    trust_replaced: bool = Field(
        default=False,
        description="The access role's trust was narrowed to orgvend's and the operators' principals.",
    )
    trust_findings: list[str] = Field(
        default_factory=list,
        description="What the role's trust admitted before orgvend narrowed it, when that reached outside "
        "the organization (an adopted account's role).",
    )


class BillingSetup(Model):
    """What SetBillingPreferences did; ``$.billing`` in the workflow."""

    mode: BillingMode
    ri_sharing: Literal["ENABLED", "DISABLED"] | None = Field(
        default=None, description="The account's RI / Savings Plans sharing as read back (direct only)."
    )
    changed: bool = False


BudgetSource = Literal["request", "account", "client", "stack"]


class BudgetSetup(Model):
    """What CreateBudget did; ``$.budget`` in the workflow (orgvend.budgets)."""

    name: str = Field(description="The budget's name: orgvend-<accountId>, in the management account.")
    monthly_budget_usd: MonthlyBudgetUsd
    source: BudgetSource = Field(
        description="Where the limit came from: the request, the account's entry (adopted again), the "
        "client's default, or the stack's DefaultMonthlyBudgetUsd."
    )
    alert_email: str = Field(description="The client's contact the alerts are mailed to (beside the topic).")
    created: bool = Field(description="False when the budget existed already (a retry, a redrive).")
    changed: bool = Field(default=False, description="An existing budget's limit or alerts were changed.")


class BudgetRemoval(Model):
    """What DeleteBudget did; ``$.budgetRemoval`` in the offboarding workflow."""

    name: str
    deleted: bool = Field(description="False when the budget was gone already.")


class Notification(Model):
    """What a notifying step sent: the SNS message and the event for automation."""

    message_id: str
    event_detail_type: str


# The link under the names it had when orgvend stored it (an old item, a running workflow's state).
_SWITCH_ROLE_URL_KEYS = ("switchRoleUrl", "switch_role_url")


Region = Annotated[str, Field(pattern=rules.REGION_PATTERN.pattern)]


def json_numbers(value: Any) -> Any:
    """``value`` with DynamoDB's Decimals as the JSON numbers they were written as (an int, else a float),
    in lists and objects too: a setting's value read back from the registry keeps its type."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {key: json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_numbers(item) for item in value]
    return value


# Any JSON value a profile holds (a setting's expected or actual value, an override).
JsonValue = Annotated[Any, BeforeValidator(json_numbers)]


class Setting(StrEnum):
    """Each setting of a settings profile (orgvend.account_settings) by its section's name in the profile's JSON: errors and results name them so."""

    ALIAS = "alias"
    ALTERNATE_CONTACTS = "alternateContacts"
    PASSWORD_POLICY = "passwordPolicy"
    S3_PUBLIC_ACCESS_BLOCK = "s3PublicAccessBlock"
    OPT_IN_REGIONS = "optInRegions"
    EBS_ENCRYPTION = "ebsEncryption"
    DEFAULT_VPCS = "defaultVpcs"


class SettingDrift(Model):
    """One way the account differs from its profile."""

    setting: Setting
    field: str = Field(description="The profile's field that differs (camelCase), or the setting itself.")
    expected: JsonValue = None
    actual: JsonValue = None
    region: Region | None = None


class SettingsDriftReport(Model):
    """The last check of an account's settings against its profile (a settings run in ``check`` mode)."""

    checked_at: datetime
    profile: str
    version: int
    drift: list[SettingDrift] = Field(default_factory=list, description="Empty: as the profile says.")
    repaired: bool = Field(default=False, description="The profile said repair, and it was applied again.")


class AppliedSettings(Model):
    """Which settings profile an account was set up with (orgvend.account_settings), and what it did."""

    profile: str
    version: int
    applied_at: datetime
    changed: list[str] = Field(default_factory=list, description="The settings this application changed.")
    kept: list[str] = Field(
        default_factory=list,
        description="What was found and deliberately left alone (a default VPC with something in it).",
    )
    overrides: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="The single settings overridden for this account (the onboarding's ``settings``): a "
        "later run applies them again on top of the profile's current version.",
    )


class AccountRecord(Model):
    """A registry entry: one AWS account that orgvend knows."""

    account_id: AccountId
    account_name: str
    email: str
    client: str
    project: str
    role_name: str
    status: AccountStatus
    ou_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    baseline_policy_arn: str | None = None
    onboarding_id: str | None = None
    execution_arn: str | None = None
    failure: str | None = None
    billing_mode: BillingMode = "consolidated"
    root_credentials_management: bool | None = Field(
        default=None,
        description="Whether the organization manages root access centrally "
        "(IAM RootCredentialsManagement); absent when unknown.",
    )
    root_secured_at: datetime | None = Field(
        default=None, description="When an owner confirmed the root user's password reset and MFA."
    )
    root_secured_by: str | None = None
    offboarding_id: str | None = Field(
        default=None, description="The offboarding in progress, if any: at most one per account at a time."
    )
    offboarding_attempt: int | None = Field(
        default=None, description="The attempt (redrive count) of that offboarding that holds the account."
    )
    offboarded_at: datetime | None = Field(
        default=None, description="When the account was detached from the organization or its closure began."
    )
    requested_by: str | None = Field(
        default=None, description="Who asked for the onboarding that registered the account."
    )
    access: AccountAccess | None = Field(
        default=None, description="People's access through IAM Identity Center: what orgvend assigned."
    )
    settings: AppliedSettings | None = Field(
        default=None, description="The settings profile (and version) last applied to the account."
    )
    settings_drift: SettingsDriftReport | None = Field(
        default=None, description="How the account differed from its profile when last checked."
    )
    monthly_budget_usd: MonthlyBudgetUsd | None = Field(
        default=None,
        description="The limit of the account's monthly cost budget (orgvend-<accountId>) in US dollars.",
    )
    budget_alert_email: str | None = Field(
        default=None, description="Who gets the budget's alerts beside the operators (absent: the email)."
    )
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _ignore_a_stored_switch_role_url(cls, data: Any) -> Any:
        """Entries and workflow states from before the link was computed carry one, maybe naming an old
        role or client: dropped, so the computed link below is the only one anybody sees."""
        if isinstance(data, Mapping) and any(key in data for key in _SWITCH_ROLE_URL_KEYS):
            return {key: value for key, value in data.items() if key not in _SWITCH_ROLE_URL_KEYS}
        return data

    # Part of the account's JSON (API, workflow state, events), never of its registry item (stored_json).
    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type a decorated property; pydantic's documented form
    @property
    def switch_role_url(self) -> str:
        """The console's switch-role link, computed from the ID, the role and the client and project."""
        return switch_role.switch_role_url(self.account_id, self.role_name, self.client, self.project)

    def stored_json(self) -> dict[str, Any]:
        """The registry item's attributes: the JSON form without what is computed from them."""
        return self.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude=set(type(self).model_computed_fields)
        )

    def changed(self, **changes: Any) -> "AccountRecord":
        """A copy with ``changes`` (field names), stamped ``updated_at`` now."""
        return self.model_copy(update={**changes, "updated_at": now()})


class OffboardingRequest(Model):
    """The offboarding workflow's input."""

    account_id: AccountId
    mode: OffboardingMode
    confirm_account_name: str = Field(
        max_length=rules.ACCOUNT_NAME_MAX_LENGTH,
        description="The account's name as the registry has it: detaching or closing an account is "
        "irreversible, so the caller proves which account it means (checked by the server).",
    )
    requested_by: str | None = Field(
        default=None, max_length=2048, description="Who asked (the API's caller)."
    )


OFFBOARDABLE_STATUSES = frozenset({AccountStatus.ACTIVE, AccountStatus.NEEDS_ROLE, AccountStatus.FAILED})
# Registry states in which orgvend may (again) take an account in hand: waiting for its access role,
# or back in the scope after it was moved out.
ADOPTABLE_STATUSES = frozenset({AccountStatus.NEEDS_ROLE, AccountStatus.OUT_OF_SCOPE})


class Offboarding(Model):
    """The account being offboarded, as the registry had it when the offboarding began; ``$.offboarding``."""

    offboarding_id: str
    execution_arn: str
    started_at: datetime
    mode: OffboardingMode
    account_id: AccountId
    account_name: str
    email: str
    client: str
    project: str
    role_name: str
    billing_mode: BillingMode = "consolidated"
    status_before: AccountStatus
    requested_by: str | None = None


class Removal(Model):
    """What RemoveAccount did; ``$.removal``."""

    removed: bool = Field(description="False when the account had already left the organization.")


class AccessRemoval(Model):
    """What RemoveAccess did; ``$.accessRemoval``."""

    configured: bool = Field(description="False when the stack names no Identity Center instance.")
    removed: list[AccessAssignment] = Field(
        default_factory=list, description="The assignments orgvend made that the offboarding removed."
    )


class ClosureState(StrEnum):
    PENDING_CLOSURE = "PENDING_CLOSURE"
    SUSPENDED = "SUSPENDED"  # closed: reopenable through AWS Support for 90 days
    GONE = "GONE"  # no longer in the organization at all


class Closure(Model):
    """Where an account's closure stands; ``$.closure``."""

    state: ClosureState
    requested_at: datetime
    polls: int = 0


class RunFailure(Model):
    """A failed onboarding or offboarding as the operators and the failure event see it."""

    execution_arn: str
    error: str
    message: str
    account_id: str | None = None
    client: str | None = None
    project: str | None = None
    account_name: str | None = None


class OffboardingFailure(RunFailure):
    offboarding_id: str
    mode: str | None = None


FAILURE_TEXT_MAX = 500  # characters: a registry attribute and a line of the operators' message


_MARKUP = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|<[^>]*>", re.DOTALL | re.IGNORECASE)
_ENTITIES = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&amp;": "&"}


def readable_failure(text: str, limit: int = FAILURE_TEXT_MAX) -> str:
    """A failure's cause as orgvend stores and tells it, whatever an endpoint answered: markup
    stripped (an HTML error page keeps only its words), control and unprintable characters
    (binary garbage) dropped, whitespace collapsed, at most ``limit`` characters."""
    text = _MARKUP.sub(" ", text)
    for entity, character in _ENTITIES.items():
        text = text.replace(entity, character)
    text = "".join(
        character if character.isprintable() else " " for character in text if character != "\ufffd"
    )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class WorkflowError(BaseModel):
    """What a Catch puts at ``$.error``: Step Functions' own capitalised keys."""

    model_config = ConfigDict(populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")

    @property
    def message(self) -> str:
        """The readable part of a Lambda error's cause (its errorMessage), else the cause; short and
        plain text (``readable_failure``) whatever the failed call answered."""
        try:
            parsed = json.loads(self.cause)
        except ValueError:
            return readable_failure(self.cause)
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return readable_failure(str(parsed["errorMessage"]))
        return readable_failure(self.cause)


class OnboardingFailure(RunFailure):
    onboarding_id: str
    email: str | None = None


_NAMED_FIELD = re.compile(r"^(?P<field>[a-z][A-Za-z0-9]*): (?P<message>.+)$", re.DOTALL)


def validation_problems(error: ValidationError) -> list[dict[str, str]]:
    """Each problem of a failed validation as ``{"field": "tags.cost center", "message": ...}``."""
    return problems_of(error.errors(include_url=False))


def problems_of(errors: Iterable[Mapping[str, Any]], *, skip: int = 0) -> list[dict[str, str]]:
    """Problems from pydantic error dicts; ``skip`` drops leading location parts (such as "body")."""
    problems = []
    for detail in errors:
        # A bad dict key is reported at (..., key, "[key]"): the key is the field.
        location = [str(part) for part in tuple(detail.get("loc", ()))[skip:] if part != "[key]"]
        message = str(detail.get("msg", "invalid")).removeprefix("Value error, ")
        named = _NAMED_FIELD.match(message) if not location else None
        if named:  # a check of the whole request that names the field it is about ("keepOu: ...")
            location, message = [named.group("field")], named.group("message")
        problems.append({"field": ".".join(location) or "body", "message": message})
    return problems


def describe_problems(problems: list[dict[str, str]]) -> str:
    return "; ".join(f"{problem['field']}: {problem['message']}" for problem in problems)
