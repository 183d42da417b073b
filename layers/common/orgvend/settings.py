"""The configuration template.yaml gives each function, read once and validated (pydantic-settings).

A handler builds its ``Settings()`` when its module is imported, so a variable that is missing or
malformed fails the function's cold start, naming the variable, instead of a request later. Every
function gets the variables of template.yaml's ``Globals`` (required here); the others are given to
the functions that need them, and reading one a function was not given says which
(``Settings.required``). No variable has a made-up default.
"""

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from orgvend import rules


class MissingSetting(LookupError):
    """A function read a variable template.yaml does not give it."""


def _comma_separated(value: Any) -> Any:
    """A CommaDelimitedList parameter, joined with commas by the template: its non-empty items."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


CommaSeparated = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]


class Settings(BaseSettings):
    """One function's environment. Field ``x_y`` is variable ``X_Y``."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

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
    idempotency_table_name: str | None = Field(default=None, min_length=1)
    guardrail_policy_name: str | None = Field(default=None, min_length=1)

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
