"""Request and response bodies of the HTTP API (the OpenAPI document is generated from these)."""

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import Field, computed_field, model_validator
from pydantic.json_schema import SkipJsonSchema

from orgvend import models
from orgvend.account_settings.models import SettingsProfile
from orgvend.account_settings.runs import (
    AccountOutcome,
    SettingsRun,
    SettingsRunMode,
    SettingsRunRequest,
    SettingsSelection,
)
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


class SettingsApplyBody(Model):
    """``POST /accounts/{accountId}/settings/apply`` (optional): which profile, and apply or check."""

    model_config = Model.model_config | {
        "json_schema_extra": {"examples": [{"settingsProfile": "strict", "mode": "apply"}, {"mode": "check"}]}
    }

    settings_profile: Slug | None = Field(
        default=None,
        description="Apply this profile (its current version) instead of each account's own, the one it "
        "was set up with. Each account's own overrides stay on top.",
    )
    mode: SettingsRunMode = Field(
        default=SettingsRunMode.APPLY,
        description="apply: the profile applied (what is as it says is not touched); check: each account "
        "read back and its drift recorded (settingsDrift), repaired only where the profile says repair.",
    )


SELECTION_FIELDS = ("accountId", "client", "all")


class FleetSettingsApplyBody(SettingsApplyBody):
    """``POST /settings/apply``: a settings run over exactly one of an account, a client's accounts, or
    all the active accounts."""

    model_config = Model.model_config | {
        "json_schema_extra": {
            "examples": [
                {"client": "acme"},
                {"all": True, "mode": "check"},
                {"accountId": "210987654321", "settingsProfile": "strict"},
            ]
        }
    }

    account_id: AccountId | None = Field(default=None, description="This account only.")
    client: Slug | None = Field(default=None, description="Every active account of this client.")
    all: bool = Field(default=False, description="Every active account orgvend manages.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        chosen = [
            name
            for name, given in zip(
                SELECTION_FIELDS,
                (self.account_id is not None, self.client is not None, self.all),
                strict=True,
            )
            if given
        ]
        if len(chosen) != 1:
            # The field named: the second one given (one too many), else the usual one (client).
            field = chosen[1] if chosen else "client"
            got = f" (got {' and '.join(chosen)})" if chosen else ""
            raise ValueError(f"{field}: name exactly one of accountId, client or all: true{got}")
        return self

    def selection(self) -> SettingsSelection:
        return SettingsSelection(account_id=self.account_id, client=self.client, all=self.all)


class SettingsRunAccepted(Model):
    """A settings run started: follow it at ``statusUrl``."""

    run_id: str = Field(description="The run's ID: its execution's name.")
    execution_arn: str
    status_url: str


class SettingsRunProgress(Model):
    """How far a run is, in accounts: ``done`` = ``succeeded`` + ``failed``; ``total`` = ``done`` +
    ``running`` + ``pending``."""

    total: int | None = Field(description="The accounts the run covers; null until they are chosen.")
    done: int = 0
    succeeded: int = Field(default=0, description="Done, with any outcome but failed.")
    failed: int = 0
    running: int = 0
    pending: int = 0


class SettingsRunTally(Model):
    """What a finished run did: how many accounts had each outcome."""

    counts: dict[AccountOutcome, int]
    operators_notified: bool = Field(
        description="The operators were told (an apply run always; a check run when it found drift or failed)."
    )


class SettingsRunView(Model):
    """``GET /settings/runs/{runId}``: Step Functions' side of a run, and the registry's."""

    run_id: str
    status: str = Field(description="The execution's status (RUNNING, SUCCEEDED, FAILED, ...).")
    started_at: datetime
    stopped_at: datetime | None = None
    error: str | None = Field(default=None, description="Why the run itself failed (not one account).")
    cause: str | None = None
    request: SettingsRunRequest | None = Field(
        default=None, description="What was asked: the execution's input."
    )
    run: SettingsRun | None = Field(
        default=None,
        description="The run as the registry keeps it, each account's outcome added as it finishes; "
        "null until its accounts are chosen.",
    )
    progress: SettingsRunProgress
    summary: SettingsRunTally | None = Field(default=None, description="Once the run has finished.")


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
