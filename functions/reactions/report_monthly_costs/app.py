"""Scheduled (CostReportSchedule) and on demand: last month's costs report, its CSV kept in the stack's
bucket and a summary per client to the operators."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.costs.report import CostReports
from orgvend.observability import observed_handler
from orgvend.reactions.report_monthly_costs import MonthlyReportRequest, report_monthly_costs
from orgvend.registry import default_registry
from orgvend.settings import Settings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()
BUCKET = SETTINGS.required(SETTINGS.cost_report_bucket_name, "cost_report_bucket_name")


@observed_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Budgets are the management account's (where the function runs, or behind the hub's management role);
    # the bucket's Region is the stack's.
    region = context.invoked_function_arn.split(":")[3]
    reports = CostReports(
        aws.client("ce"), aws.client("budgets"), default_registry(SETTINGS), aws.management_account_id()
    )
    request = MonthlyReportRequest.model_validate({"month": event.get("month")})
    return report_monthly_costs(
        reports,
        aws.client("s3"),
        aws.client("sns"),
        topic_arn=SETTINGS.operator_topic_arn,
        bucket=BUCKET,
        region=region,
        request=request,
    ).to_json()
