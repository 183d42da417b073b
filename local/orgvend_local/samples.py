"""What ``make run`` puts in the embedded AWS so that a fresh machine has something to show: three sample
accounts of two clients, onboarded by the real workflow, and last month's Cost Explorer answer for them.

moto answers ``GetCostAndUsage`` from a queue (``POST /moto-api/static/ce/cost-and-usage-results``): each
request takes the next queued answer, and moto answers every later request with the same parameters with
that same answer. So the samples queue last month's pages and then ask once, through the HTTP API
(``GET /costs``): that binds the pages to last month's query (a report of another month, asked first,
would otherwise take them), and orgvend keeps the answer in the registry (``COSTS#<month>``, a final month:
for good), so every ``orgvend costs`` of last month shows them. Any other month has nothing queued: its
report is empty.
"""

import json
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orgvend_local.runtime import MANAGEMENT_ACCOUNT_ID, EmbeddedAws

# (client, project): groups for acme and globex exist in the embedded Identity Store.
SAMPLE_PROJECTS = (("acme", "shop"), ("acme", "data"), ("globex", "portal"))
# Last month's unblended and amortized cost of each, as Cost Explorer's Amount strings.
SAMPLE_COSTS = {
    ("acme", "shop"): ("1234.5678901234", "1200.0049"),
    ("acme", "data"): ("321.0912", "321.0912"),
    ("globex", "portal"): ("87.6543", "90.1"),
}
MANAGEMENT_COSTS = ("45.1", "45.1")
LOG_ARCHIVE_COSTS = ("12.345", "12.345")


@dataclass(frozen=True)
class Samples:
    month: str
    accounts: dict[tuple[str, str], str]  # (client, project) -> account ID


def last_month(now: datetime) -> str:
    index = now.year * 12 + now.month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _onboard(runtime: EmbeddedAws) -> dict[tuple[str, str], str]:
    """Each sample through the onboarding workflow, as `aws stepfunctions start-execution` starts one."""
    sfn = runtime.client("stepfunctions")
    arn = runtime.deployment.outputs["OnboardAccountStateMachineArn"]
    executions = {
        (client, project): sfn.start_execution(
            stateMachineArn=arn,
            name=f"sample-{client}-{project}",
            input=json.dumps(
                {"client": client, "project": project, "email": f"aws+sample-{client}-{project}@example.com"}
            ),
        )["executionArn"]
        for client, project in SAMPLE_PROJECTS
    }
    accounts = {}
    deadline = time.monotonic() + 120
    for sample, execution_arn in executions.items():
        while True:
            execution = sfn.describe_execution(executionArn=execution_arn)
            if execution["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sample onboarding {execution_arn} is still running")
            time.sleep(0.2)
        if execution["status"] != "SUCCEEDED":
            raise RuntimeError(f"the sample onboarding {execution_arn} ended {execution['status']}")
        item = runtime.client("dynamodb").get_item(
            TableName=runtime.deployment.outputs["RegistryTableName"],
            Key={"pk": {"S": f"ONBOARDING#{execution['name']}"}, "sk": {"S": "ONBOARDING"}},
        )["Item"]
        accounts[sample] = str(item["accountId"]["S"])
    return accounts


def cost_and_usage_page(
    month: str, costs: list[tuple[str, str, str]], token: str | None, *, estimated: bool = False
) -> dict[str, Any]:
    """One GetCostAndUsage answer as Cost Explorer gives it for a month grouped by LINKED_ACCOUNT:
    (account, unblended, amortized) per account, ``token`` the next page's (the samples, the e2e tests
    and the costs bench queue these)."""
    year, number = int(month[:4]), int(month[5:])
    answer: dict[str, Any] = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        "ResultsByTime": [
            {
                "TimePeriod": {
                    "Start": f"{month}-01",
                    "End": f"{year + number // 12:04d}-{number % 12 + 1:02d}-01",
                },
                "Total": {},
                "Groups": [
                    {
                        "Keys": [account],
                        "Metrics": {
                            "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
                            "AmortizedCost": {"Amount": amortized, "Unit": "USD"},
                        },
                    }
                    for account, unblended, amortized in costs
                ],
                "Estimated": estimated,
            }
        ],
        "DimensionValueAttributes": [
            {"Value": account, "Attributes": {"description": f"ce-name-{account}"}} for account, _, _ in costs
        ],
    }
    if token:
        answer["NextPageToken"] = token
    return answer


def queue_cost_and_usage(endpoint_url: str, answers: list[dict[str, Any]]) -> None:
    """Queue GetCostAndUsage answers in the embedded Cost Explorer (moto's API)."""
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": answers}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 201:
            raise RuntimeError(f"moto refused the Cost Explorer answers: HTTP {response.status}")


def seed(runtime: EmbeddedAws, now: datetime | None = None) -> Samples:
    """Onboard the samples, queue last month's costs (two pages: the samples; the management and log-archive
    accounts, which the registry does not know) and ask for them once through the API."""
    assert runtime.layout is not None
    accounts = _onboard(runtime)
    month = last_month(now or datetime.now(UTC))
    samples = [(accounts[sample], *SAMPLE_COSTS[sample]) for sample in SAMPLE_PROJECTS]
    others = [
        (MANAGEMENT_ACCOUNT_ID, *MANAGEMENT_COSTS),
        (runtime.layout.log_archive_account_id, *LOG_ARCHIVE_COSTS),
    ]
    queue_cost_and_usage(
        runtime.endpoint_url,
        [cost_and_usage_page(month, samples, f"{month}-page-2"), cost_and_usage_page(month, others, None)],
    )
    api_url = runtime.deployment.outputs["ApiUrl"]
    with urllib.request.urlopen(f"{api_url}/costs?month={month}", timeout=60) as response:
        report = json.loads(response.read())
    if len(report["accounts"]) != len(SAMPLE_PROJECTS):
        raise RuntimeError(f"the sample costs did not come back: {report}")
    return Samples(month=month, accounts=accounts)
