"""SelectSettingsAccounts: the accounts a settings run covers, and the run's registry item.

The run covers the ACTIVE accounts of its selection (one account, a client's, or all): an account
being offboarded, waiting for its access role or outside the scope has no settings to keep. The map
that follows gets only their IDs, so the run's state stays small however many accounts there are.
"""

from collections.abc import Iterator

from pydantic import Field

from orgvend.account_settings.runs import SelectedAccounts, SettingsRun, SettingsRunRequest
from orgvend.clock import now
from orgvend.models import AccountRecord, AccountStatus, Model
from orgvend.observability import logger, metrics
from orgvend.registry import Registry


class SelectSettingsAccountsInput(Model):
    run_id: str = Field(description="The execution's name.")
    request: SettingsRunRequest


def _active_accounts(request: SettingsRunRequest, registry: Registry) -> Iterator[AccountRecord]:
    selection = request.selection
    if selection.account_id is not None:
        record = registry.get_account(selection.account_id)
        if record is not None and record.status == AccountStatus.ACTIVE:
            yield record
        return
    yield from registry.accounts_where(status=AccountStatus.ACTIVE, client=selection.client)


def select_settings_accounts(step_input: SelectSettingsAccountsInput, registry: Registry) -> SelectedAccounts:
    run_id, request = step_input.run_id, step_input.request
    if request.settings_profile is not None:
        registry.resolve_settings_profile(request.settings_profile)  # InvalidSettingsProfile names it
    account_ids = sorted({record.account_id for record in _active_accounts(request, registry)})
    registry.start_settings_run(
        SettingsRun(
            run_id=run_id,
            mode=request.mode,
            selection=request.selection,
            settings_profile=request.settings_profile,
            requested_by=request.requested_by,
            started_at=now(),
            accounts=len(account_ids),
        )
    )
    metrics.add_metric(name="SettingsRunAccounts", unit="Count", value=len(account_ids))
    logger.info(
        "Settings run selected its accounts",
        extra={
            "runId": run_id,
            "mode": str(request.mode),
            "selection": request.selection.describe(),
            "accounts": len(account_ids),
        },
    )
    return SelectedAccounts(
        run_id=run_id, mode=request.mode, settings_profile=request.settings_profile, account_ids=account_ids
    )
