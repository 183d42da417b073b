"""Scheduled (CostReportSchedule, the 3rd of each month) and on demand: last month's costs report.

The report (``orgvend.costs.report``, one Cost Explorer query for every account) is kept as its CSV, one
line per account, in the stack's bucket at a key made of the month alone (``costs/2026-11.csv``): a rerun
for the same month writes the same object again (a new version of it, the bucket being versioned), never a
second one. The operators get a summary per client with a link to it (its ``s3://`` URI and its page in
the S3 console: links that do not expire, unlike a presigned URL; reading it takes the reader's own access).

Invoked with ``{"month": "2026-10"}`` it reports that month instead (a month of the past, or this one).
"""

from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import Field

from orgvend import rules
from orgvend.clock import now
from orgvend.costs.models import CostReport, CostRow, GroupBy, Section, money, previous_month
from orgvend.costs.report import CostReports, InvalidMonth, group_rows
from orgvend.costs.sheet import costs_csv
from orgvend.models import Model
from orgvend.notifications import publish

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient

REPORT_PREFIX = "costs/"
MESSAGE_KIND = "costs"
MAX_LISTED = 200  # clients (and accounts over budget) named in one message; the CSV has them all


class MonthlyReportRequest(Model):
    """The schedule's event (nothing: last month), or an operator's ``{"month": "YYYY-MM"}``."""

    month: str | None = None


class MonthlyReport(Model):
    """What the run did: the object it wrote and the message it sent."""

    month: str
    estimated: bool
    bucket: str
    key: str
    version_id: str | None = Field(default=None, description="The object's version (a rerun adds one).")
    uri: str
    console_url: str
    message_id: str
    accounts: int
    unblended_cost: Decimal
    amortized_cost: Decimal


def report_key(month: str) -> str:
    """The month's object: the same key every time the month is reported."""
    return f"{REPORT_PREFIX}{month}.csv"


def console_url(bucket: str, key: str, region: str) -> str:
    return (
        f"https://s3.console.aws.amazon.com/s3/object/{quote(bucket, safe='')}"
        f"?region={quote(region, safe='')}&bucketType=general&prefix={quote(key, safe='/')}"
    )


def _over_budget(rows: list[CostRow]) -> list[CostRow]:
    return [row for row in rows if row.budget_percent_used is not None and row.budget_percent_used >= 100]


def summary_message(report: CostReport, uri: str, link: str) -> tuple[str, str]:
    """The operators' message: a line per client (its accounts, unblended and amortized cost, accounts over
    budget), the offboarded and unknown accounts, the total, and where the CSV is."""
    currency, totals = report.currency, report.totals
    state = "estimated: Cost Explorer may still change it" if report.estimated else "final"
    clients = group_rows(report.accounts, GroupBy.CLIENT)
    width = max([len(group.client or "") for group in clients[:MAX_LISTED]] + [10])
    lines = [
        f"orgvend's cost report for {report.month} ({state}), {currency}, unblended / amortized:",
        "",
    ]
    for group in clients[:MAX_LISTED]:
        rows = [row for row in report.accounts if row.client == group.client]
        over = _over_budget(rows)
        lines.append(
            f"  {(group.client or '').ljust(width)}  {group.accounts:>4} account{'s' if group.accounts != 1 else ' '}"
            f"  {money(group.unblended_cost):>14} / {money(group.amortized_cost):>14}"
            + (f"  {len(over)} over budget" if over else "")
        )
    if len(clients) > MAX_LISTED:
        lines.append(f"  ... and {len(clients) - MAX_LISTED} more clients (in the CSV)")
    for section, total, why in (
        (Section.OFFBOARDED, totals.offboarded, "detached or closed before the month ended"),
        (
            Section.UNKNOWN,
            totals.unknown,
            "not in the registry: the management account, accounts outside the scope",
        ),
    ):
        if total.accounts:
            lines.append(
                f"  {section.value.ljust(width)}  {total.accounts:>4} account{'s' if total.accounts != 1 else ' '}"
                f"  {money(total.unblended_cost):>14} / {money(total.amortized_cost):>14}  ({why})"
            )
    lines += [
        f"  {'total'.ljust(width)}  {totals.all.accounts:>4} account{'s' if totals.all.accounts != 1 else ' '}"
        f"  {money(totals.all.unblended_cost):>14} / {money(totals.all.amortized_cost):>14}",
    ]
    over = _over_budget(report.rows())
    if over:
        lines += ["", "Over their monthly budget (unblended cost, percent of the limit):"]
        lines += [
            f"  {row.client}/{row.project}  {row.account_name} ({row.account_id}): "
            f"{money(row.unblended_cost)} of {money(row.budget_limit or Decimal(0))}, {row.budget_percent_used:f} %"
            for row in over[:MAX_LISTED]
        ]
    lines += [
        "",
        "The CSV, one line per account (ready for the invoices):",
        f"  {uri}",
        f"  {link}",
    ]
    subject = f"orgvend: costs for {report.month}: {currency} {money(totals.all.unblended_cost)}" + (
        " (estimated)" if report.estimated else ""
    )
    return subject, "\n".join(lines)


def report_monthly_costs(
    reports: CostReports,
    s3: "S3Client",
    sns: "SNSClient",
    *,
    topic_arn: str,
    bucket: str,
    region: str,
    request: MonthlyReportRequest,
) -> MonthlyReport:
    """Make the month's report (last month unless the request names one), keep its CSV, tell the operators."""
    month = request.month or previous_month(now().date())
    problem = rules.month_problem(month)
    if problem:
        raise InvalidMonth(f"month {month!r}: {problem}")
    report = reports.report(month, GroupBy.ACCOUNT)
    key = report_key(month)
    written = s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=costs_csv(report).encode("utf-8"),
        ContentType="text/csv; charset=utf-8",
        ContentDisposition=f'attachment; filename="orgvend-costs-{month}.csv"',
    )
    uri, link = f"s3://{bucket}/{key}", console_url(bucket, key, region)
    subject, body = summary_message(report, uri, link)
    message_id = publish(sns, topic_arn, MESSAGE_KIND, subject, body)
    return MonthlyReport(
        month=month,
        estimated=report.estimated,
        bucket=bucket,
        key=key,
        version_id=written.get("VersionId"),
        uri=uri,
        console_url=link,
        message_id=message_id,
        accounts=report.totals.all.accounts,
        unblended_cost=report.totals.all.unblended_cost,
        amortized_cost=report.totals.all.amortized_cost,
    )
