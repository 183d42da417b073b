"""``/clients/{client}/budget``: a client's default monthly budget, which its accounts onboarded from now on
get when their request names none (orgvend.budgets)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from orgvend.api.dependencies import BudgetsService, Caller
from orgvend.api.errors import answers
from orgvend.api.parameters import ClientPath
from orgvend.workflows.models import ClientBudget, ClientBudgetBody

router = Router()


@router.get(
    "/clients/<client>/budget",
    summary="A client's default monthly budget (the stack's when it has none of its own)",
    responses=answers(200, ClientBudget, "The client's default"),
)
def get_client_budget(client: ClientPath, budgets: BudgetsService) -> ClientBudget:
    return budgets.client_default(client)


@router.put(
    "/clients/<client>/budget",
    summary="Set a client's default monthly budget (accounts onboarded from now on)",
    responses=answers(200, ClientBudget, "The client's default, as stored", body=True),
)
def put_client_budget(
    client: ClientPath, body: Annotated[ClientBudgetBody, Body()], budgets: BudgetsService, caller: Caller
) -> ClientBudget:
    return budgets.set_client_default(client, body.monthly_budget_usd, caller)
