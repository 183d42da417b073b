"""Request and response bodies of the HTTP API (the OpenAPI document is generated from these)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, computed_field, model_validator
from pydantic.json_schema import SkipJsonSchema

from orgvend import models
from orgvend.account_settings.models import SettingsProfile
from orgvend.models import (
    AccountId,
    AccountName,
    AccountRecord,
    BudgetAlertEmail,
    Model,
    MonthlyBudgetUsd,
    OffboardingMode,
    OuId,
    RoleName,
    SettingsRequest,
    Slug,
    TagKey,
    TagValue,
)


class OnboardRequest(models.OnboardRequest):
    """``POST /accounts``: the workflow's input (who asked is added from the caller's identity)."""

    model_config = models.OnboardRequest.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "client": "acme",
                    "project": "web",
                    "email": "aws+acme-web@example.com",
                    "tags": {"cost-center": "42"},
                }
            ]
        }
    }


class AdoptRequest(SettingsRequest):
    """``POST /accounts/adopt``: register and baseline an existing member account."""

    model_config = Model.model_config | {
        "json_schema_extra": {
            "examples": [{"accountId": "210987654321", "client": "acme", "project": "legacy"}]
        }
    }

    account_id: AccountId
    client: Slug
    project: Slug
    role_name: RoleName | None = None
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    ou: OuId | None = Field(
        default=None, description="Move the account into this OU (inside orgvend's scope)."
    )
    keep_ou: bool | None = Field(
        default=None,
        description="Adoption leaves the account in its OU unless ``ou`` is given; false moves it into "
        "its client's OU.",
    )
    monthly_budget_usd: MonthlyBudgetUsd | None = Field(
        default=None,
        description="The account's monthly cost budget in US dollars (default: the client's, else the stack's).",
    )
    budget_alert_email: BudgetAlertEmail | None = Field(
        default=None,
        description="Who gets the budget's alerts beside the operators (default: the account's email).",
    )


class Links(Model):
    self: str
    execution: str | None = None
    account: str | None = None
    retry: str | None = None
    offboarding: str | None = None


class AccountChange(Model):
    """``PATCH /accounts/{accountId}``: what may change of a registered account (its budget's limit)."""

    model_config = Model.model_config | {"json_schema_extra": {"examples": [{"monthlyBudgetUsd": 250}]}}

    monthly_budget_usd: MonthlyBudgetUsd = Field(
        description="The limit of the account's monthly cost budget in US dollars: the budget is set to it "
        "(made again if it is missing) and the account's entry records it."
    )


class ClientBudgetBody(Model):
    """``PUT /clients/{client}/budget``: the client's default monthly budget."""

    model_config = Model.model_config | {"json_schema_extra": {"examples": [{"monthlyBudgetUsd": 500}]}}

    monthly_budget_usd: MonthlyBudgetUsd = Field(
        description="US dollars a month for the client's accounts onboarded from now on whose request "
        "names no limit (existing budgets keep theirs: PATCH /accounts/{accountId} changes one)."
    )


class ClientBudget(Model):
    """A client's default monthly budget: its own, or the stack's when it has none."""

    client: str
    monthly_budget_usd: MonthlyBudgetUsd
    source: Literal["client", "stack"] = Field(
        description="client: the client's own default; stack: the stack's DefaultMonthlyBudgetUsd."
    )


class OnboardingAccepted(Model):
    onboarding_id: str
    status: Literal["RUNNING"] = "RUNNING"
    links: Links


class AccountView(AccountRecord):
    links: Links

    # Computed from ``access`` (whose portalUrl is the portal to sign in at), like switchRoleUrl.
    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type a decorated property; pydantic's documented form
    @property
    def permission_sets(self) -> list[str]:
        """The permission sets people sign in to the account with through the AWS access portal."""
        return self.access.permission_sets if self.access else []


class AccountPage(Model):
    items: list[AccountView]
    next_token: str | None = None


class TimelineStep(Model):
    """One state of the workflow as it ran: loops (the creation poll) are one step with several visits."""

    name: str
    type: str
    status: Literal["RUNNING", "SUCCEEDED", "FAILED"]
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    visits: int = 1
    attempts: int = 0
    retries: int = 0
    error: str | None = None
    cause: str | None = None


class RunSummary(Model):
    """A workflow run (an onboarding, an offboarding) in a list: Step Functions' side and its account."""

    status: str
    started_at: datetime
    stopped_at: datetime | None = None
    account_id: str | None = None
    client: str | None = None
    project: str | None = None
    links: Links


class RunView(RunSummary):
    """One workflow run with what went wrong, how often it was redriven, and its timeline."""

    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    timeline: list[TimelineStep] = Field(default_factory=list)
    account_name: str | None = None


class OnboardingView(RunView):
    onboarding_id: str


class OnboardingSummary(RunSummary):
    onboarding_id: str


class OnboardingPage(Model):
    items: list[OnboardingSummary]
    next_token: str | None = None


class Redriven(Model):
    status: Literal["RUNNING"] = "RUNNING"
    redrive_date: datetime
    message: str
    links: Links


class RetryAccepted(Redriven):
    onboarding_id: str


class OffboardRequest(Model):
    """``POST /accounts/{accountId}/offboard``."""

    model_config = Model.model_config | {
        "json_schema_extra": {"examples": [{"mode": "detach", "confirmAccountName": "acme-web"}]}
    }

    mode: OffboardingMode = Field(
        description="detach: the account leaves the organization and becomes the client's own "
        "(hand-over checklist sent); close: the account is closed (AWS deletes it after 90 days)."
    )
    confirm_account_name: AccountName = Field(
        description="The account's name as orgvend registered it: the server checks it, because detaching "
        "or closing an account cannot be undone."
    )


class OffboardingAccepted(Model):
    offboarding_id: str
    account_id: str
    mode: OffboardingMode
    status: Literal["RUNNING"] = "RUNNING"
    links: Links


class OffboardingView(RunView):
    offboarding_id: str
    mode: str | None = None
    requested_by: str | None = None
    outcome: str | None = Field(default=None, description="The account's registry status once it succeeded.")


class OffboardingSummary(RunSummary):
    offboarding_id: str
    mode: str | None = None


class OffboardingPage(Model):
    items: list[OffboardingSummary]
    next_token: str | None = None


class OffboardingRetryAccepted(Redriven):
    offboarding_id: str


class SettingsProfileBody(SettingsProfile):
    """``PUT /settings-profiles/{name}``: a profile's settings. Its name is the path's, and its version
    is the registry's to give: the version the writer read goes in ``If-Match``."""

    name: SkipJsonSchema[Slug] = "default"
    version: SkipJsonSchema[int] = 1

    @model_validator(mode="before")
    @classmethod
    def _settings_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "name" in data:
                raise ValueError("name: not part of the body: the path names the profile")
            if "version" in data:
                raise ValueError("version: not part of the body: send the version you read in If-Match")
        return data

    def named(self, name: str) -> SettingsProfile:
        """These settings as the profile ``name`` (its version is given when it is written)."""
        return SettingsProfile.model_validate(
            {**self.model_dump(exclude={"name", "version"}, exclude_unset=True), "name": name}
        )


class SettingsProfileList(Model):
    """Every settings profile, the built-in ``default`` included unless one was written over it."""

    items: list[SettingsProfile]


class ErrorDetail(Model):
    field: str
    message: str


class ErrorInfo(Model):
    code: str
    message: str
    field: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(Model):
    """Every error of the API has this shape."""

    error: ErrorInfo


class Health(Model):
    status: Literal["ok"] = "ok"
    version: str
