"""Settings runs: a profile re-applied to, or checked against, existing accounts (orgvend.account_settings.runs).

``POST /accounts/{accountId}/settings/apply`` runs it on one account, ``POST /settings/apply`` on an
account, a client's accounts or all of them; ``GET /settings/runs/{runId}`` follows one. What a run
names (the account, the profile) is checked before it starts: a refusal starts nothing.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from orgvend.account_settings.runs import SettingsSelection
from orgvend.api.dependencies import Caller, SettingsRunsService
from orgvend.api.errors import answers
from orgvend.api.parameters import AccountIdPath, RunIdPath
from orgvend.observability import logger, metrics
from orgvend.workflows.models import (
    FleetSettingsApplyBody,
    SettingsApplyBody,
    SettingsRunAccepted,
    SettingsRunView,
)

router = Router()


def _requested(accepted: SettingsRunAccepted, selection: SettingsSelection, body: SettingsApplyBody) -> None:
    metrics.add_metric(name="SettingsRunsRequested", unit="Count", value=1)
    logger.info(
        "Settings run requested",
        extra={
            "runId": accepted.run_id,
            "mode": str(body.mode),
            "selection": selection.describe(),
            "settingsProfile": body.settings_profile,
        },
    )


@router.post(
    "/accounts/<accountId>/settings/apply",
    status_code=202,
    summary="Apply (or check) a settings profile on one account: its own, or the one named",
    responses=answers(202, SettingsRunAccepted, "The settings run started", body=True),
)
def post_account_settings_apply(
    *,
    accountId: AccountIdPath,
    runs: SettingsRunsService,
    caller: Caller,
    body: Annotated[SettingsApplyBody | None, Body()] = None,
) -> SettingsRunAccepted:
    asked = body or SettingsApplyBody()
    selection = SettingsSelection(account_id=accountId)
    accepted = runs.start(asked.mode, selection, asked.settings_profile, caller)
    _requested(accepted, selection, asked)
    return accepted


@router.post(
    "/settings/apply",
    status_code=202,
    summary="Apply (or check) a settings profile on an account, a client's accounts, or all",
    responses=answers(202, SettingsRunAccepted, "The settings run started", body=True),
)
def post_settings_apply(
    *, body: Annotated[FleetSettingsApplyBody, Body()], runs: SettingsRunsService, caller: Caller
) -> SettingsRunAccepted:
    selection = body.selection()
    accepted = runs.start(body.mode, selection, body.settings_profile, caller)
    _requested(accepted, selection, body)
    return accepted


@router.get(
    "/settings/runs/<runId>",
    summary="One settings run: its status, progress in accounts, and what it did",
    responses=answers(200, SettingsRunView, "The settings run"),
)
def get_settings_run(runId: RunIdPath, runs: SettingsRunsService) -> SettingsRunView:
    return runs.describe(runId)
