"""``/accounts``: the registry's accounts (onboarding one is in ``onboardings``, offboarding in ``offboardings``)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from orgvend.api.dependencies import AccountsService, BudgetsService, Caller
from orgvend.api.errors import answers
from orgvend.api.parameters import AccountIdPath, NextToken, PageSize, SlugFilter
from orgvend.models import AccountStatus
from orgvend.workflows.models import AccountChange, AccountPage, AccountView

router = Router()


@router.get(
    "/accounts",
    summary="List accounts (Query, never Scan)",
    responses=answers(200, AccountPage, "A page of accounts"),
)
def get_accounts(
    *,
    accounts: AccountsService,
    client: SlugFilter = None,
    project: SlugFilter = None,
    status: Annotated[AccountStatus | None, Query()] = None,
    limit: PageSize = 50,
    nextToken: NextToken = None,
) -> AccountPage:
    return accounts.page(client, project, status.value if status else None, limit, nextToken)


@router.get(
    "/accounts/<accountId>", summary="One account", responses=answers(200, AccountView, "The account")
)
def get_account(accountId: AccountIdPath, accounts: AccountsService) -> AccountView:
    return accounts.get(accountId)


@router.patch(
    "/accounts/<accountId>",
    summary="Change an account: its monthly budget's limit (monthlyBudgetUsd)",
    responses=answers(
        200, AccountView, "The account, with its new limit (its budget is set to it)", body=True
    ),
)
def patch_account(
    accountId: AccountIdPath,
    change: Annotated[AccountChange, Body()],
    budgets: BudgetsService,
    caller: Caller,
) -> AccountView:
    """404 for an unknown account, 409 unless it is ACTIVE (AccountNotActive) or while an offboarding
    holds it (OffboardingInProgress), 422 naming monthlyBudgetUsd for a limit orgvend does not set."""
    return budgets.set_account_limit(accountId, change.monthly_budget_usd, caller)


@router.post(
    "/accounts/<accountId>/root-secured",
    summary="Record that the account's root password was reset and MFA enabled",
    responses=answers(200, AccountView, "The account, with who confirmed it and when"),
)
def post_root_secured(accountId: AccountIdPath, accounts: AccountsService, caller: Caller) -> AccountView:
    return accounts.confirm_root_secured(accountId, caller)
