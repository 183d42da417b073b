"""The costs report over 5,000 accounts of 20 clients: Cost Explorer calls, registry reads, time, memory.

Run: .venv/bin/python bench/bench_costs_report.py [--accounts 5000] [--clients 20] [--page-size 500]

moto in-process (``mock_aws``) for the registry: the table made from template.yaml's RegistryTable, the
accounts written in the Registry's own item shape (``Registry._account_item``), 1 % of them closed in the
month (the offboarded section) and 50 accounts Cost Explorer reports that the registry does not know.
Cost Explorer and Budgets are answered by botocore hooks on orgvend's session (``before-call``), as AWS
pages them: GetCostAndUsage ``--page-size`` groups a page (Cost Explorer does not document its page size
for LINKED_ACCOUNT groups; the count of pages scales with it, the count of queries does not), DescribeBudgets
1,000 budgets a page (its MaxResults), one ``orgvend-<accountId>`` budget per account.

``CostReports.report`` (what GET /costs and the monthly report call) is timed and traced (tracemalloc)
three times: cold (Cost Explorer queried, the answer kept in the registry), warm (the kept answer), and
warm for one client. Figures: calls by service and operation, DynamoDB's bytes read (what real DynamoDB
would page by 1 MB and bill as read units), the kept answer's item sizes (DynamoDB's limit: 400 KB), the
report's JSON size (Lambda's response limit: 6 MB), the CSV and HTML of the 5,000 accounts.
Goals (exit 1 when missed): one Cost Explorer query per report and none when kept; the registry read by
Query only; every total the exact sum of its rows; each kept item under 400 KB.
"""

import argparse
import json
import math
import os
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

for _name, _value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Orgvend",
    "POWERTOOLS_SERVICE_NAME": "orgvend",
}.items():
    os.environ[_name] = _value
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402 (after the environment above)
from benchkit import item_size, say  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402
from moto import mock_aws  # noqa: E402

from orgvend import aws  # noqa: E402
from orgvend.budgets import budget_name  # noqa: E402
from orgvend.clock import set_clock  # noqa: E402
from orgvend.costs.models import GroupBy, Section  # noqa: E402
from orgvend.costs.report import CostReports, group_rows  # noqa: E402
from orgvend.costs.sheet import costs_csv  # noqa: E402
from orgvend.exports.costs import costs_html  # noqa: E402
from orgvend.models import AccountRecord, AccountStatus  # noqa: E402
from orgvend.registry import Registry  # noqa: E402
from orgvend_local.samples import cost_and_usage_page  # noqa: E402
from orgvend_local.template import Template  # noqa: E402

MONTH = "2026-11"
NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
MANAGEMENT = "999988887777"
BUDGET_PAGE = 1_000
UNKNOWN = 50
ITEM_LIMIT = 400 * 1024
RESPONSE_LIMIT = 6 * 1024 * 1024
QUERY_PAGE = 1024 * 1024
CE_PRICE = Decimal("0.01")  # per GetCostAndUsage request (page), us-east-1 list price


class Answers:
    """Cost Explorer's pages and Budgets' pages, answered from before-call hooks; every call counted."""

    def __init__(self, ce_pages: list[dict[str, Any]], budget_pages: list[list[dict[str, Any]]]) -> None:
        self.ce_pages, self.budget_pages = ce_pages, budget_pages
        self.calls: Counter[str] = Counter()
        self.queries = 0
        self.dynamodb_bytes = 0
        self.in_aws = (
            0.0  # seconds inside calls (moto's own time, in-process; the hooks' answers are instant)
        )

    def remember(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1
        context["bench"] = dict(params)
        context["bench_started"] = time.perf_counter()

    def finished(self, context: dict[str, Any], **_: Any) -> None:
        self.in_aws += time.perf_counter() - context.get("bench_started", time.perf_counter())

    def answer(
        self, model: Any, context: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        params = context.get("bench", {})
        if model.name == "GetCostAndUsage":
            if "NextPageToken" not in params:
                self.queries += 1
            parsed = self.ce_pages[int(params.get("NextPageToken", "0"))]
        elif model.name == "DescribeBudgets":
            index = int(params.get("NextToken", "0"))
            parsed = {"Budgets": self.budget_pages[index]}
            if index + 1 < len(self.budget_pages):
                parsed["NextToken"] = str(index + 1)
        else:
            return None
        return AWSResponse("https://bench.invalid", 200, {}, None), {
            **parsed,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def read(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        for item in parsed.get("Items", []):
            self.dynamodb_bytes += item_size(item)
        if "Item" in parsed:
            self.dynamodb_bytes += item_size(parsed["Item"])
        for items in parsed.get("Responses", {}).values():
            self.dynamodb_bytes += sum(item_size(item) for item in items)

    def install(self) -> None:
        session = aws.session()
        session.events.register("before-parameter-build", self.remember)
        session.events.register("before-call.ce", self.answer)
        session.events.register("before-call.budgets", self.answer)
        session.events.register("after-call.dynamodb", self.read)
        session.events.register("after-call", self.finished)
        aws.reset()

    def clear(self) -> None:
        self.calls.clear()
        self.queries = 0
        self.dynamodb_bytes = 0
        self.in_aws = 0.0


def build(accounts: int, clients: int, page_size: int) -> tuple[list[AccountRecord], Answers]:
    """The registry's records and Cost Explorer's and Budgets' pages for them (deterministic amounts)."""
    names = [f"client-{number:02d}" for number in range(clients)]
    records, groups = [], []
    created = datetime(2025, 1, 1, tzinfo=UTC)
    for number in range(accounts):
        account_id = f"{200_000_000_000 + number:012d}"
        client = names[number % clients]
        project = f"project-{number // clients % 12:02d}"
        closed = number % 100 == 99
        records.append(
            AccountRecord(
                account_id=account_id,
                account_name=f"{client}-{project}-{number}"[:50],
                email=f"aws+{account_id}@example.com",
                client=client,
                project=project,
                role_name="OrganizationAccountAccessRole",
                status=AccountStatus.CLOSED if closed else AccountStatus.ACTIVE,
                offboarded_at=datetime(2026, 11, 15, tzinfo=UTC) if closed else None,
                ou_id="ou-ab12-cdef3456",
                tags={"cost-center": str(number % 97)},
                created_at=created,
                updated_at=created,
            )
        )
        amount = f"{(number * 7919) % 250_000 / 100:.10f}"
        groups.append((account_id, amount, f"{(number * 104_729) % 250_000 / 100:.10f}"))
    for number in range(UNKNOWN):
        groups.append((f"{300_000_000_000 + number:012d}", f"{number * 1.37:.10f}", f"{number * 1.37:.10f}"))
    ce_pages = []
    for start in range(0, len(groups), page_size):
        chunk = groups[start : start + page_size]
        token = str(len(ce_pages) + 1) if start + page_size < len(groups) else None
        ce_pages.append(cost_and_usage_page("2026-11", chunk, token))
    budgets = [
        {
            "BudgetName": budget_name(record.account_id),
            "BudgetLimit": {"Amount": "1000.0", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        }
        for record in records
    ]
    budget_pages = [budgets[start : start + BUDGET_PAGE] for start in range(0, len(budgets), BUDGET_PAGE)]
    return records, Answers(ce_pages, budget_pages)


def measured(
    run: Any, forget: Any, answers: Answers
) -> tuple[Any, float, float, int, Counter[str], int, int]:
    """``run`` timed (and the time inside AWS calls: moto's), then again traced for memory (tracemalloc slows
    it down): the report, seconds, seconds in AWS calls, peak bytes, calls, queries, DynamoDB bytes read."""
    forget()
    answers.clear()
    began = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - began
    calls, queries, read, in_aws = (
        Counter(answers.calls),
        answers.queries,
        answers.dynamodb_bytes,
        answers.in_aws,
    )
    forget()
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return report, seconds, in_aws, peak, calls, queries, read


def exact(report: Any) -> list[str]:
    problems = []
    for section in Section:
        rows = getattr(report, section.value)
        total = getattr(report.totals, section.value)
        if total.unblended_cost != sum((row.unblended_cost for row in rows), Decimal(0)):
            problems.append(f"{section} total is not the sum of its rows")
    for client_group in group_rows(report.accounts, GroupBy.CLIENT):
        rows = [row for row in report.accounts if row.client == client_group.client]
        if client_group.unblended_cost != sum((row.unblended_cost for row in rows), Decimal(0)):
            problems.append(f"client {client_group.client}: total is not the sum of its rows")
    for project_group in group_rows(report.accounts, GroupBy.PROJECT):
        rows = [
            r
            for r in report.accounts
            if (r.client, r.project) == (project_group.client, project_group.project)
        ]
        if project_group.amortized_cost != sum((row.amortized_cost for row in rows), Decimal(0)):
            problems.append(
                f"project {project_group.client}/{project_group.project}: not the sum of its rows"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=500, help="Cost Explorer groups per page")
    arguments = parser.parse_args()
    problems: list[str] = []
    set_clock(lambda: NOW)

    with mock_aws():
        template = Template.load()
        properties = template.resources["RegistryTable"]["Properties"]
        table = template.physical_name("RegistryTable")
        setup = boto3.session.Session(region_name="us-east-1").client("dynamodb")
        setup.create_table(
            TableName=table,
            **{
                key: properties[key]
                for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            },
        )
        writer = Registry(setup, table)
        records, answers = build(arguments.accounts, arguments.clients, arguments.page_size)
        items = [{"PutRequest": {"Item": writer._account_item(record, 1)}} for record in records]
        for start in range(0, len(items), 25):
            setup.batch_write_item(RequestItems={table: items[start : start + 25]})
        registry_bytes = sum(item_size(item["PutRequest"]["Item"]) for item in items)
        say(
            f"{len(records):,} accounts of {arguments.clients} clients in the registry ({registry_bytes / 1e6:.2f} MB of "
            f"items), Cost Explorer: {len(records) + UNKNOWN:,} accounts in {len(answers.ce_pages)} pages of "
            f"{arguments.page_size}, {sum(map(len, answers.budget_pages)):,} budgets in {len(answers.budget_pages)} pages\n"
        )
        answers.install()
        reports = CostReports(
            aws.client("ce"), aws.client("budgets"), Registry(aws.client("dynamodb"), table), MANAGEMENT
        )

        def nothing_kept() -> None:
            for item in setup.query(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"COSTS#{MONTH}"}},
            )["Items"]:
                setup.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})

        runs = {}
        for label, run, forget in (
            ("cold", lambda: reports.report(MONTH, GroupBy.CLIENT), nothing_kept),
            ("warm", lambda: reports.report(MONTH, GroupBy.ACCOUNT), lambda: None),
            (
                "warm, client",
                lambda: reports.report(MONTH, GroupBy.PROJECT, client="client-07"),
                lambda: None,
            ),
        ):
            runs[label] = measured(run, forget, answers)
        say(f"  {'CostReports.report':<34}" + "".join(f"{label:>16}" for label in runs))
        say(f"  {'seconds':<34}" + "".join(f"{run[1]:>16.2f}" for run in runs.values()))
        say(
            f"  {'  in AWS calls (botocore, moto)':<34}"
            + "".join(f"{run[2]:>16.2f}" for run in runs.values())
        )
        say(f"  {'  orgvend (the rest)':<34}" + "".join(f"{run[1] - run[2]:>16.2f}" for run in runs.values()))
        say(
            f"  {'peak memory, MB (tracemalloc)':<34}"
            + "".join(f"{run[3] / 1e6:>16.1f}" for run in runs.values())
        )
        operations = sorted({operation for run in runs.values() for operation in run[4]})
        for operation in operations:
            say(f"  {operation:<34}" + "".join(f"{run[4][operation]:>16}" for run in runs.values()))
        say(f"  {'Cost Explorer queries':<34}" + "".join(f"{run[5]:>16}" for run in runs.values()))
        say(
            f"  {'DynamoDB bytes read (MB)':<34}" + "".join(f"{run[6] / 1e6:>16.2f}" for run in runs.values())
        )

        cold, warm, one = (runs[label] for label in runs)
        pages = len(answers.ce_pages)
        if cold[5] != 1 or cold[4]["ce.GetCostAndUsage"] != pages:
            problems.append(
                f"cold: {cold[5]} queries, {cold[4]['ce.GetCostAndUsage']} pages (expected 1, {pages})"
            )
        if warm[4]["ce.GetCostAndUsage"] or one[4]["ce.GetCostAndUsage"]:
            problems.append("a kept answer was asked again")
        for label, run in runs.items():
            if run[4]["dynamodb.Scan"]:
                problems.append(f"{label}: a Scan")
        warm_report = warm[0]
        problems += exact(warm_report)
        if warm_report.totals.all.accounts != len(records) + UNKNOWN:
            problems.append(f"{warm_report.totals.all.accounts} rows for {len(records) + UNKNOWN} accounts")
        sections = {section.value: getattr(warm_report.totals, section.value).accounts for section in Section}

        kept = setup.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"COSTS#{MONTH}"}},
        )["Items"]
        sizes = sorted((item["sk"]["S"].split("#")[0], item_size(item)) for item in kept)
        say(
            f"\n  kept answer: {len(kept)} items ("
            + ", ".join(f"{sort_key} {size / 1024:.0f} KB" for sort_key, size in sizes)
            + f"); the limit is {ITEM_LIMIT // 1024} KB"
        )
        if any(size > ITEM_LIMIT for _, size in sizes):
            problems.append("a kept item over 400 KB")
        say(
            f"  the registry's accounts: Query on the Accounts index reads {registry_bytes / 1e6:.2f} MB of items (projected "
            f"to 6 attributes on the wire): {math.ceil(registry_bytes / QUERY_PAGE)} pages of 1 MB in DynamoDB "
            f"(moto answers it in {cold[4]['dynamodb.Query']}), {math.ceil(registry_bytes / 4096) * 0.5:,.0f} RRU "
            f"eventually consistent; one client's by ByClient: {registry_bytes / arguments.clients / 1e6:.2f} MB"
        )
        say(f"  sections: {sections}; total {warm_report.totals.all.unblended_cost:,} USD unblended")

        document = json.dumps(warm_report.to_json())
        say(
            f"  GET /costs?groupBy=account JSON: {len(document) / 1e6:.2f} MB (Lambda's response limit "
            f"{RESPONSE_LIMIT / 1e6:.1f} MB: about {int(len(records) * RESPONSE_LIMIT / len(document)):,} accounts)"
        )
        if len(document) > RESPONSE_LIMIT:
            problems.append("the account-level JSON is over Lambda's 6 MB response limit")
        for label, render in (("CSV", costs_csv), ("HTML", costs_html)):
            began = time.perf_counter()
            content = render(warm_report)
            say(
                f"  {label} of {len(warm_report.rows()):,} accounts: {time.perf_counter() - began:.2f} s, {len(content) / 1e6:.2f} MB"
            )
        cost = CE_PRICE * pages
        say(
            f"\n  Cost Explorer: ${cost} for the month's report ({pages} requests at $0.01); every later report of the month "
            f"$0 while kept (one query per month and hour until final, then none)"
        )

    set_clock(None)
    say(
        f"\nSUMMARY: {len(records):,} accounts, {arguments.clients} clients: cold {cold[1]:.2f} s "
        f"({cold[1] - cold[2]:.2f} s orgvend, the rest in AWS calls) / {cold[3] / 1e6:.0f} MB peak, warm {warm[1]:.2f} s "
        f"({warm[1] - warm[2]:.2f} s orgvend) / {warm[3] / 1e6:.0f} MB; one Cost Explorer query ({pages} pages), "
        "none when kept" + ("" if not problems else f"; PROBLEMS: {problems}")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
