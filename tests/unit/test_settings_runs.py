"""Settings runs: the selection a run accepts, its registry item (outcomes counted once, failures with
their reason, finished and failed stamped once), and what the operators are told."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from orgvend.account_settings.runs import (
    AccountOutcome,
    AccountSettingsItem,
    SettingsRun,
    SettingsRunMode,
    SettingsRunRequest,
    SettingsSelection,
    failure_reason,
)
from orgvend.models import (
    AccountRecord,
    AccountStatus,
    AppliedSettings,
    Setting,
    SettingDrift,
    SettingsDriftReport,
)
from orgvend.registry import Registry
from orgvend.steps.settings.keep_account_settings import keep_account_settings
from orgvend.steps.settings.summarize_settings_run import settings_run_message

FIRST, SECOND, THIRD = "111111111111", "222222222222", "333333333333"


def a_run(
    run_id: str = "run-1", mode: SettingsRunMode = SettingsRunMode.APPLY, accounts: int = 3
) -> SettingsRun:
    return SettingsRun(
        run_id=run_id,
        mode=mode,
        selection=SettingsSelection(client="acme"),
        started_at=datetime(2026, 12, 4, 9, tzinfo=UTC),
        accounts=accounts,
    )


@pytest.mark.parametrize(
    "selection",
    [{}, {"client": "acme", "all": True}, {"accountId": FIRST, "client": "acme"}, {"all": False}],
)
def test_a_run_names_exactly_one_of_an_account_a_client_or_all(selection: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="exactly one of accountId, client or all"):
        SettingsRunRequest.model_validate({"selection": selection})


@pytest.mark.parametrize(
    ("selection", "field"),
    [({"accountId": "12"}, "accountId"), ({"client": "Not A Slug"}, "client")],
)
def test_a_bad_account_or_client_is_named(selection: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SettingsRunRequest.model_validate({"selection": selection})
    assert [error["loc"] for error in raised.value.errors()] == [("selection", field)]


def test_the_request_defaults_to_applying_each_accounts_own_profile() -> None:
    request = SettingsRunRequest.model_validate({"selection": {"all": True}})
    assert (request.mode, request.settings_profile) == (SettingsRunMode.APPLY, None)
    assert request.selection.describe() == "all accounts"


def test_outcomes_are_sets_so_a_retried_account_counts_once(registry: Registry) -> None:
    registry.start_settings_run(a_run())
    registry.record_settings_outcome("run-1", FIRST, AccountOutcome.CHANGED)
    registry.record_settings_outcome("run-1", FIRST, AccountOutcome.CHANGED)  # the step retried
    registry.record_settings_outcome("run-1", SECOND, AccountOutcome.UNCHANGED)
    registry.record_settings_outcome("run-1", THIRD, AccountOutcome.FAILED, "SettingsNotApplied: alias: no")

    run = registry.get_settings_run("run-1")
    assert run is not None
    assert run.outcomes == {
        AccountOutcome.CHANGED: [FIRST],
        AccountOutcome.UNCHANGED: [SECOND],
        AccountOutcome.FAILED: [THIRD],
    }
    assert run.failures == {THIRD: "SettingsNotApplied: alias: no"}
    assert run.done == 3 and run.counts()["changed"] == 1 and run.counts()["drifted"] == 0


def test_a_retried_selection_keeps_the_run_and_what_was_recorded(registry: Registry) -> None:
    registry.start_settings_run(a_run())
    registry.record_settings_outcome("run-1", FIRST, AccountOutcome.CHANGED)
    again = registry.start_settings_run(a_run())
    assert again.outcomes == {AccountOutcome.CHANGED: [FIRST]}


def test_an_outcome_for_a_run_that_was_never_started_is_refused(registry: Registry) -> None:
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        registry.record_settings_outcome("nope", FIRST, AccountOutcome.CHANGED)


def test_finished_and_failed_are_stamped_once(registry: Registry) -> None:
    assert registry.finish_settings_run("nope") is None
    assert registry.fail_settings_run("nope", "States.Timeout: late") is None
    registry.start_settings_run(a_run())
    finished = registry.finish_settings_run("run-1")
    assert finished is not None and finished.finished_at is not None
    assert registry.finish_settings_run("run-1").finished_at == finished.finished_at  # type: ignore[union-attr]
    assert registry.fail_settings_run("run-1", "States.Timeout: late") is True
    assert registry.fail_settings_run("run-1", "States.Timeout: late") is False
    assert registry.get_settings_run("run-1").failure == "States.Timeout: late"  # type: ignore[union-attr]


def test_the_failure_recorded_by_the_workflows_catch_reads_as_the_errors_message() -> None:
    cause = '{"errorMessage": "alias: AWS refused it (AccessDenied)", "errorType": "SettingsNotApplied"}'
    assert failure_reason(cause) == "alias: AWS refused it (AccessDenied)"
    assert failure_reason("Task timed out after 300.00 seconds") == "Task timed out after 300.00 seconds"
    assert failure_reason("<html><body>Bad Gateway</body></html>") == "Bad Gateway"


def test_the_message_names_the_drifted_repaired_and_failed_accounts() -> None:
    run = a_run(mode=SettingsRunMode.CHECK).model_copy(
        update={
            "outcomes": {
                AccountOutcome.DRIFTED: [FIRST],
                AccountOutcome.REPAIRED: [SECOND],
                AccountOutcome.FAILED: [THIRD],
            },
            "failures": {THIRD: "passwordPolicy: AWS refused it (AccessDenied)"},
            "requested_by": "the drift schedule",
        }
    )
    subject, body = settings_run_message(run)
    assert subject == "orgvend: settings checked on client acme: 1 drifted, 1 repaired, 1 failed"
    assert "by the drift schedule" in body
    drifted, repaired = body.index(FIRST), body.index(SECOND)
    assert "repair: false" in body[:drifted] and "repair: true" in body[drifted:repaired]
    assert f"{THIRD}: passwordPolicy: AWS refused it (AccessDenied)" in body


def an_entry(status: AccountStatus) -> AccountRecord:
    stamp = datetime(2026, 11, 1, tzinfo=UTC)
    return AccountRecord(
        account_id=FIRST,
        account_name="acme-web",
        email="aws+acme-web@example.com",
        client="acme",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=status,
        created_at=stamp,
        updated_at=stamp,
    )


class Untouchable:
    """An AWS client the step must not use."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"called {name}")


@pytest.mark.parametrize("status", [AccountStatus.CLOSING, AccountStatus.NEEDS_ROLE, None])
def test_an_account_no_longer_active_when_its_turn_comes_is_skipped_untouched(
    registry: Registry, status: AccountStatus | None
) -> None:
    registry.start_settings_run(a_run())
    if status is not None:
        registry.save_account(an_entry(status))
    item = AccountSettingsItem(run_id="run-1", mode=SettingsRunMode.APPLY, account_id=FIRST)
    kept = keep_account_settings(item, Untouchable(), Untouchable(), registry)  # type: ignore[arg-type]
    assert kept.outcome == AccountOutcome.SKIPPED
    assert registry.get_settings_run("run-1").outcomes == {AccountOutcome.SKIPPED: [FIRST]}  # type: ignore[union-attr]


def test_drift_and_overrides_read_back_from_the_registry_keep_their_numbers(registry: Registry) -> None:
    entry = an_entry(AccountStatus.ACTIVE).model_copy(
        update={
            "settings_drift": SettingsDriftReport(
                checked_at=datetime(2026, 12, 4, tzinfo=UTC),
                profile="default",
                version=1,
                drift=[
                    SettingDrift(
                        setting=Setting.PASSWORD_POLICY, field="minimumPasswordLength", expected=14, actual=8
                    )
                ],
            ),
            "settings": AppliedSettings(
                profile="default",
                version=1,
                applied_at=datetime(2026, 12, 4, tzinfo=UTC),
                overrides={"passwordPolicy": {"minimumPasswordLength": 16, "maxPasswordAge": 90}},
            ),
        }
    )
    registry.save_account(entry)
    read = registry.get_account(FIRST)
    assert read is not None and read.settings_drift is not None and read.settings is not None
    [drift] = read.to_json()["settingsDrift"]["drift"]
    assert (drift["expected"], drift["actual"]) == (14, 8)
    assert read.to_json()["settings"]["overrides"] == {
        "passwordPolicy": {"minimumPasswordLength": 16, "maxPasswordAge": 90}
    }
