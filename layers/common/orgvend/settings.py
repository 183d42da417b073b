"""The configuration template.yaml gives each function, read once and validated (pydantic).

A handler builds its ``Settings()`` when its module is imported, so a variable that is missing or
malformed fails the function's cold start, naming the variable, instead of a request later. Every
function gets the variables of template.yaml's ``Globals`` (required here); the others are given to
the functions that need them, and reading one a function was not given says which
(``Settings.required``). No variable has a made-up default.

A plain pydantic model over ``os.environ`` rather than pydantic-settings: the functions read nothing
but their environment, and importing pydantic-settings (its dotenv, secrets, CLI and cloud sources)
cost every cold start about 0.13x an ``import boto3`` (bench/bench_cold_start.py, bench/RESULTS.md).
"""

import os
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from orgvend import rules


class MissingSetting(LookupError):
    """A function read a variable template.yaml does not give it."""


def _comma_separated(value: Any) -> Any:
    """A CommaDelimitedList parameter, joined with commas by the template: its non-empty items."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


CommaSeparated = Annotated[tuple[str, ...], BeforeValidator(_comma_separated)]


def _monthly_budget(value: Decimal) -> Decimal:
    problem = rules.monthly_budget_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# The stack's DefaultMonthlyBudgetUsd: what a request (and its client) that names no budget gets.
MonthlyBudget = Annotated[Decimal, AfterValidator(_monthly_budget)]


class Settings(BaseModel):
    """One function's environment. Field ``x_y`` is variable ``X_Y``: its alias, so errors name the variable."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=str.upper)

    # template.yaml's Globals: every function.
    registry_table_name: str = Field(min_length=1)
    operator_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:")
    event_bus_name: str = Field(min_length=1)
    event_source: str = Field(pattern=r"^[a-z0-9.-]{1,64}$")
    clients_parent_ou_id: str = Field(pattern=rules.SCOPE_OU_ID_PATTERN.pattern)
    allowed_email_domains: CommaSeparated = Field(min_length=1)

    # Given to the functions that need them.
    access_role_names: CommaSeparated | None = None
    baseline_policy_name: str | None = Field(default=None, min_length=1)
    max_creations_in_progress: int | None = Field(default=None, ge=1)
    creation_timeout_seconds: int | None = Field(default=None, ge=1)
    orgvend_principal_arns: CommaSeparated | None = None
    operator_principal_arns: CommaSeparated | None = None
    onboard_state_machine_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:states:")
    offboard_state_machine_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:states:")
    keep_settings_state_machine_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:states:")
    idempotency_table_name: str | None = Field(default=None, min_length=1)
    guardrail_policy_name: str | None = Field(default=None, min_length=1)
    # People's access through IAM Identity Center (orgvend.access): empty instance ARN, none.
    identity_center_instance_arn: str | None = Field(
        default=None, pattern=r"^$|^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$"
    )
    identity_store_id: str | None = Field(default=None, pattern=r"^$|^d-[0-9a-z]{10}$|^[0-9a-f-]{36}$")
    identity_center_region: str | None = Field(
        default=None, pattern=r"^$|" + rules.REGION_PATTERN.pattern[1:]
    )
    access_portal_url: str | None = Field(default=None, pattern=r"^$|^https://")
    access_rules: CommaSeparated | None = None
    create_missing_groups: bool | None = None
    access_session_duration: str | None = Field(default=None, pattern=rules.SESSION_DURATION_PATTERN.pattern)
    # The monthly cost report's bucket (orgvend.reactions.report_monthly_costs).
    cost_report_bucket_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    # Budgets (orgvend.budgets): the limit of an account whose request and client name none.
    default_monthly_budget_usd: MonthlyBudget | None = None

    def __init__(self, **values: Any) -> None:
        """The variables of this process's environment that name a field; ``values`` (by field name) win.

        Only those variables reach pydantic, so a validation error never echoes the rest of the
        environment (the function's credentials are there).
        """
        variables = {name.upper() for name in type(self).model_fields}
        environment = {name: value for name, value in os.environ.items() if name in variables}
        super().__init__(**{**environment, **{name.upper(): value for name, value in values.items()}})

    @classmethod
    def from_environment(cls) -> "Settings":
        return cls()

    def required[T](self, value: T | None, name: str) -> T:
        """``value`` (a field of this object), or MissingSetting naming its variable ``name``."""
        if value is None:
            raise MissingSetting(f"{name.upper()} is not set for this function (template.yaml gives it none)")
        return value

    @property
    def roles(self) -> tuple[str, ...]:
        """ACCESS_ROLE_NAMES: the access role names orgvend may assume; the first is the default."""
        names = self.required(self.access_role_names, "access_role_names")
        if not names:
            raise MissingSetting("ACCESS_ROLE_NAMES is empty")
        return names

    @property
    def default_role_name(self) -> str:
        """The organization's naming convention: the first of the allowed access role names."""
        return self.roles[0]

    @property
    def creation_lease(self) -> timedelta:
        """How long a creation slot is held at most: the creation timeout, and a margin for the last poll."""
        return timedelta(
            seconds=self.required(self.creation_timeout_seconds, "creation_timeout_seconds") + 300
        )
