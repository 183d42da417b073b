"""A settings run: a profile re-applied to, or checked against, many accounts at once (the fleet).

A run is one execution of statemachines/keep_settings.asl.json: SelectSettingsAccounts chooses the
accounts (one, a client's, or all), a Distributed Map runs KeepAccountSettings for each with a bounded
concurrency, and SummarizeSettingsRun tells the operators what it found. Each account's outcome is
recorded in the run's registry item as it finishes (``SETTINGSRUN#<runId>``), in sets of account IDs:
an account retried is still counted once, and the summary reads one item whatever the fleet's size.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, model_validator

from orgvend.models import AccountId, Model, Slug, WorkflowError


class SettingsRunMode(StrEnum):
    """``apply``: the profile's current version applied; ``check``: drift read back, repaired only where
    the profile says ``repair``."""

    APPLY = "apply"
    CHECK = "check"


class AccountOutcome(StrEnum):
    """What a run did to one account."""

    CHANGED = "changed"  # apply: something was changed
    UNCHANGED = "unchanged"  # apply: already as the profile says; check: no drift
    DRIFTED = "drifted"  # check: differs, reported only (the profile does not say repair)
    REPAIRED = "repaired"  # check: differed, and the profile was applied again
    SKIPPED = "skipped"  # no longer active (offboarded, out of scope) when its turn came
    FAILED = "failed"  # a setting could not be applied or read: the reason is in ``failures``


class SettingsSelection(Model):
    """Which accounts a run covers: exactly one of an account, a client's accounts, or all."""

    account_id: AccountId | None = None
    client: Slug | None = None
    all: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        chosen = [self.account_id is not None, self.client is not None, self.all]
        if sum(chosen) != 1:
            raise ValueError("name exactly one of accountId, client or all: true")
        return self

    def describe(self) -> str:
        if self.account_id:
            return f"account {self.account_id}"
        if self.client:
            return f"client {self.client}"
        return "all accounts"


class SettingsRunRequest(Model):
    """A settings run's input: from the API (``POST …/settings/apply``) or the drift schedule."""

    mode: SettingsRunMode = SettingsRunMode.APPLY
    selection: SettingsSelection
    settings_profile: Slug | None = Field(
        default=None,
        description="Apply this profile instead of each account's own (the one it was set up with).",
    )
    requested_by: str | None = Field(default=None, max_length=2048)


class SelectedAccounts(Model):
    """SelectSettingsAccounts' answer: the run, and what its map gives each account."""

    run_id: str
    mode: SettingsRunMode
    settings_profile: Slug | None
    account_ids: list[AccountId]

    def to_json(self) -> dict[str, Any]:
        # With a null settingsProfile: the map's ItemSelector reads the path, which must exist.
        return self.model_dump(mode="json", by_alias=True)


class AccountSettingsItem(Model):
    """One item of the map: an account and the run it belongs to."""

    run_id: str
    mode: SettingsRunMode
    account_id: AccountId
    settings_profile: Slug | None = None


class AccountSettingsKept(Model):
    """KeepAccountSettings' answer for one account (small: the map collects them)."""

    account_id: AccountId
    outcome: AccountOutcome


class SettingsRun(Model):
    """A run as the registry keeps it, with what it did so far (``GET /settings/runs/{runId}``)."""

    run_id: str
    mode: SettingsRunMode
    selection: SettingsSelection
    settings_profile: str | None = None
    requested_by: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    failed_at: datetime | None = Field(
        default=None, description="When the run itself failed (not an account)."
    )
    failure: str | None = Field(default=None, description="Why the run itself failed.")
    accounts: int = Field(description="How many accounts the run covers.")
    outcomes: dict[AccountOutcome, list[AccountId]] = Field(
        default_factory=dict, description="The accounts by what the run did to them (sorted)."
    )
    failures: dict[AccountId, str] = Field(
        default_factory=dict, description="Why each failed account failed."
    )

    @property
    def done(self) -> int:
        return sum(len(accounts) for accounts in self.outcomes.values())

    def counts(self) -> dict[str, int]:
        return {str(outcome): len(self.outcomes.get(outcome, [])) for outcome in AccountOutcome}


def failure_reason(cause: str) -> str:
    """A failure's reason as the workflow's Catch recorded it (its ``Cause``): a Lambda error's message,
    or the text of a timeout or a service error, readable."""
    return WorkflowError(error="Failed", cause=cause).message
