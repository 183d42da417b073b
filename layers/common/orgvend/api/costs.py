"""``/costs``: what each client's accounts cost in a month (Cost Explorer joined with the registry)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orgvend import rules
from orgvend.api.dependencies import CostReportsService
from orgvend.api.errors import answers
from orgvend.api.parameters import SlugFilter
from orgvend.costs.models import CostReport, GroupBy
from orgvend.costs.query import CostsUnavailable
from orgvend.costs.report import InvalidMonth
from orgvend.refusals import Unprocessable

router = Router()


@router.get(
    "/costs",
    summary="One month's costs per account, client and project (Cost Explorer joined with the registry)",
    description="The unblended and amortized cost of every account Cost Explorer reports for the month, "
    "with its client, project, name, status and budget (limit, percent used); accounts offboarded by the "
    "month's end and accounts the registry does not know in sections of their own. Amounts are decimal "
    "strings: each account's rounded to the cent, every total the exact sum of its rows. One Cost Explorer "
    "query per month and hour (a final month's answer is kept).",
    responses=answers(200, CostReport, "The month's costs"),
)
def get_costs(
    *,
    costs: CostReportsService,
    month: Annotated[
        str, Query(pattern=rules.MONTH_PATTERN.pattern, description="YYYY-MM: this month or an earlier one")
    ],
    client: SlugFilter = None,
    groupBy: Annotated[
        GroupBy, Query(description="What groups total: client, project or account")
    ] = GroupBy.CLIENT,
) -> CostReport:
    try:
        return costs.report(month, groupBy, client)
    except InvalidMonth as error:
        raise Unprocessable("ValidationError", f"month: {error}", "month") from None
    except CostsUnavailable as error:
        raise Unprocessable("CostsUnavailable", str(error), "month") from None
