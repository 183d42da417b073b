"""The costs report as CSV, ready to paste into an invoice: every CSV orgvend writes guards its text cells
against spreadsheet formulas (``orgvend.spreadsheet``); amounts are written as the plain numbers they are.

Here rather than in ``orgvend.exports`` so that the monthly report's function loads no more than it uses.
"""

import csv
import io

from orgvend.costs.models import CostReport, GroupBy
from orgvend.spreadsheet import cell

ACCOUNT_COLUMNS = (
    "month",
    "estimated",
    "section",
    "client",
    "project",
    "accountId",
    "accountName",
    "status",
    "currency",
    "unblendedCost",
    "amortizedCost",
    "budgetLimit",
    "budgetPercentUsed",
)
GROUP_COLUMNS = {
    GroupBy.CLIENT: (
        "month",
        "estimated",
        "section",
        "client",
        "accounts",
        "currency",
        "unblendedCost",
        "amortizedCost",
    ),
    GroupBy.PROJECT: (
        "month",
        "estimated",
        "section",
        "client",
        "project",
        "accounts",
        "currency",
        "unblendedCost",
        "amortizedCost",
    ),
}


def costs_csv(report: CostReport) -> str:
    """One line per account (``group_by`` account) or per group of the report's ``group_by``, each section's
    lines after the accounts'. No total lines: a column's sum is the total."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    common = {"month": report.month, "estimated": report.estimated, "currency": report.currency}
    if report.group_by == GroupBy.ACCOUNT:
        writer.writerow(ACCOUNT_COLUMNS)
        for row in report.rows():
            values = {**common, **row.model_dump(by_alias=True)}
            writer.writerow([cell(values.get(column)) for column in ACCOUNT_COLUMNS])
    else:
        columns = GROUP_COLUMNS[report.group_by]
        writer.writerow(columns)
        for group in report.groups:
            values = {**common, **group.model_dump(by_alias=True)}
            writer.writerow([cell(values.get(column)) for column in columns])
    return buffer.getvalue()
