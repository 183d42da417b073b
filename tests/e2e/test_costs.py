"""What each client costs, end to end: Cost Explorer pages queued in the embedded AWS (moto's queue of
GetCostAndUsage answers), GET /costs, `orgvend costs` and the monthly report, on accounts onboarded and
offboarded by the real workflows.

moto answers each GetCostAndUsage request with the next queued answer, and every later request with the
same parameters with that same answer: each test reports a month of its own, so that no test sees
another's pages (the cache, COSTS#<month> in the registry, is per month too).
"""

import csv
import io
import json
import shutil
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from orgvend_cli.main import main
from orgvend_local.samples import cost_and_usage_page

from .conftest import Harness, OrgvendCalls, request_for
from .test_api import call, finished, onboard
from .test_offboarding import offboard, offboarding_finished
from .test_switch_roles_html import CHROMIUM, FLAGS, OUTPUT, png_pixels

pytestmark = pytest.mark.e2e

MANAGEMENT_ACCOUNT_ID = "123456789012"
OUTSIDER = "987654321098"  # an account Cost Explorer reports that the registry never knew
HTML_REPORT = OUTPUT / "costs-report.html"
SCREENSHOT = OUTPUT / "costs-report.png"


def month_of(months_ago: int) -> str:
    today = datetime.now(UTC)
    index = today.year * 12 + today.month - 1 - months_ago
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def next_month_of(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def queue_pages(
    embedded: Harness, month: str, pages: list[list[tuple[str, str, str]]], *, estimated: bool
) -> None:
    """Queue one query's pages (each but the last with a NextPageToken) through moto's API."""
    answers = [
        cost_and_usage_page(
            month,
            costs,
            f"{month}-page-{number + 1}" if number + 1 < len(pages) else None,
            estimated=estimated,
        )
        for number, costs in enumerate(pages)
    ]
    request = urllib.request.Request(
        f"{embedded.runtime.endpoint_url}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": answers}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def queries(calls: OrgvendCalls) -> list[dict[str, Any]]:
    """Each Cost Explorer query: its first page's request (the others carry NextPageToken)."""
    return [params for params in calls.of("GetCostAndUsage") if "NextPageToken" not in params]


def costs(embedded: Harness, month: str, **query: str) -> dict[str, Any]:
    status, body = call(
        embedded, "GET", f"/costs?month={month}" + "".join(f"&{k}={v}" for k, v in query.items())
    )
    assert status == 200, body
    return dict(body)


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def money(value: str) -> Decimal:
    return Decimal(value)


@dataclass
class World:
    """Accounts of two clients, one of them closed, and the amounts Cost Explorer reports for them."""

    acme: str
    globex: str
    acme_web: str
    acme_api: str
    globex_shop: str
    globex_old: str  # closed this month: offboarded

    def pages(self) -> list[list[tuple[str, str, str]]]:
        return [
            [(self.acme_web, "120.005", "118.5"), (OUTSIDER, "3.333", "3.333")],
            [(self.acme_api, "0.004", "0"), (self.globex_shop, "77.125", "80.0049")],
            [(self.globex_old, "12.5", "12.5"), (MANAGEMENT_ACCOUNT_ID, "-2.675", "1")],
        ]


@pytest.fixture(scope="module")
def world(embedded: Harness) -> World:
    unique = uuid.uuid4().hex[:6]
    acme, globex = f"a{unique}", f"g{unique}"
    requests = {
        "acme_web": request_for(f"{unique}aw", client=acme, project="web", monthlyBudgetUsd=100),
        "acme_api": request_for(f"{unique}aa", client=acme, project="api"),
        "globex_shop": request_for(f"{unique}gs", client=globex, project="shop"),
        "globex_old": request_for(f"{unique}go", client=globex, project="old"),
    }
    started = {name: onboard(embedded, request) for name, request in requests.items()}
    accounts = {}
    for name, onboarding_id in started.items():
        onboarding = finished(embedded, onboarding_id)
        assert onboarding["status"] == "SUCCEEDED", onboarding
        accounts[name] = str(onboarding["accountId"])
    closed = offboarding_finished(embedded, offboard(embedded, accounts["globex_old"], "close"))
    assert closed["status"] == "SUCCEEDED", closed
    # Every onboarding makes its account's budget (orgvend-<accountId>); one removed by hand leaves its
    # account without a limit in the report.
    embedded.client("budgets").delete_budget(
        AccountId=MANAGEMENT_ACCOUNT_ID, BudgetName=f"orgvend-{accounts['acme_api']}"
    )
    return World(acme=acme, globex=globex, **accounts)


@pytest.fixture(scope="module")
def this_month(embedded: Harness, world: World) -> str:
    """This month, still estimated: the closed account left during it."""
    month = month_of(0)
    queue_pages(embedded, month, world.pages(), estimated=True)
    return month


# --------------------------------------------------------------------------- GET /costs


def test_totals_per_client_and_project_are_the_sums_of_their_accounts_in_one_query(
    embedded: Harness, world: World, this_month: str, orgvend_calls: OrgvendCalls
) -> None:
    by_account = costs(embedded, this_month, groupBy="account")
    by_client = costs(embedded, this_month, groupBy="client")
    by_project = costs(embedded, this_month, groupBy="project")

    # One query (three pages) for all three reports: the month's answer is kept.
    assert len(queries(orgvend_calls)) == 1
    assert len(orgvend_calls.of("GetCostAndUsage")) == 3
    (query,) = queries(orgvend_calls)
    assert query["Granularity"] == "MONTHLY" and query["Metrics"] == ["UnblendedCost", "AmortizedCost"]
    assert query["GroupBy"] == [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
    assert query["TimePeriod"] == {"Start": f"{this_month}-01", "End": f"{next_month_of(this_month)}-01"}

    rows = {row["accountId"]: row for row in by_account["accounts"]}
    assert set(rows) == {world.acme_web, world.acme_api, world.globex_shop}
    assert rows[world.acme_web]["unblendedCost"] == "120.01"  # Cost Explorer's 120.005, to the cent
    assert rows[world.acme_web]["budgetLimit"] == "100.00"
    assert rows[world.acme_web]["budgetPercentUsed"] == "120.0"
    assert rows[world.acme_api]["budgetLimit"] is None  # its budget removed by hand: no limit
    assert (rows[world.globex_shop]["client"], rows[world.globex_shop]["project"]) == (world.globex, "shop")
    for report in (by_client, by_project):
        for group in [g for g in report["groups"] if g["section"] == "accounts"]:
            members = [
                row
                for row in by_account["accounts"]
                if row["client"] == group["client"] and group.get("project") in (None, row["project"])
            ]
            assert group["accounts"] == len(members)
            for amount in ("unblendedCost", "amortizedCost"):
                assert money(group[amount]) == sum(money(row[amount]) for row in members), (group, members)
    clients = {g["client"]: g["unblendedCost"] for g in by_client["groups"] if g["section"] == "accounts"}
    assert clients == {world.acme: "120.01", world.globex: "77.13"}
    totals = by_account["totals"]
    assert money(totals["all"]["unblendedCost"]) == sum(
        money(row["unblendedCost"])
        for section in ("accounts", "offboarded", "unknown")
        for row in by_account[section]
    )
    assert totals["all"]["unblendedCost"] == "210.29"


def test_unknown_and_offboarded_accounts_have_sections_of_their_own_and_the_month_is_estimated(
    embedded: Harness, world: World, this_month: str
) -> None:
    report = costs(embedded, this_month, groupBy="account")
    assert report["estimated"] is True
    (offboarded,) = report["offboarded"]
    assert offboarded["accountId"] == world.globex_old and offboarded["status"] == "CLOSED"
    assert offboarded["client"] == world.globex and offboarded["unblendedCost"] == "12.50"
    unknown = {row["accountId"]: row for row in report["unknown"]}
    assert set(unknown) == {OUTSIDER, MANAGEMENT_ACCOUNT_ID}
    assert unknown[OUTSIDER]["accountName"] == f"ce-name-{OUTSIDER}"
    assert unknown[MANAGEMENT_ACCOUNT_ID]["unblendedCost"] == "-2.68"  # a credit, half up
    assert report["totals"]["unknown"] == {"accounts": 2, "unblendedCost": "0.65", "amortizedCost": "4.33"}
    # A client's report: its accounts, the offboarded one included, and nobody's unknown accounts.
    only_globex = costs(embedded, this_month, client=world.globex, groupBy="account")
    assert [row["accountId"] for row in only_globex["accounts"]] == [world.globex_shop]
    assert [row["accountId"] for row in only_globex["offboarded"]] == [world.globex_old]
    assert only_globex["unknown"] == [] and only_globex["totals"]["all"]["unblendedCost"] == "89.63"
    # Until the month is final its answer is kept an hour (DynamoDB's TTL attribute expiresAt).
    kept = embedded.registry_item(f"COSTS#{this_month}", "ANSWER")
    assert kept is not None and kept["estimated"] is True
    assert 3500 <= int(kept["expiresAt"]) - datetime.now(UTC).timestamp() <= 3600


def test_the_cli_prints_the_same_totals_in_every_format(
    embedded: Harness, world: World, this_month: str, orgvend_calls: OrgvendCalls
) -> None:
    api = embedded.outputs["ApiUrl"]
    reference = costs(embedded, this_month, groupBy="project")
    code, out, err = cli(
        "--api-url", api, "costs", "--month", this_month, "--by", "project", "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["groups"] == reference["groups"]

    code, out, err = cli(
        "--api-url", api, "costs", "--month", this_month, "--by", "client", "--format", "csv"
    )
    assert code == 0, err
    lines = list(csv.DictReader(io.StringIO(out, newline="")))
    assert {(line["section"], line["client"]) for line in lines} >= {
        ("accounts", world.acme),
        ("offboarded", world.globex),
    }
    assert sum(money(line["unblendedCost"]) for line in lines) == money(
        reference["totals"]["all"]["unblendedCost"]
    )
    assert next(line for line in lines if line["client"] == world.acme)["unblendedCost"] == "120.01"

    code, out, err = cli("--api-url", api, "costs", "--month", this_month, "--by", "account")
    assert code == 0, err
    assert f"Costs for {this_month} (estimated" in out
    assert world.acme_web in out and "120.0 %" in out and "Total:" in out and "210.29 unblended" in out
    assert queries(orgvend_calls) == []  # every one of them from the kept answer


def test_a_final_month_is_kept_and_a_second_get_is_served_from_it(
    embedded: Harness, world: World, orgvend_calls: OrgvendCalls
) -> None:
    month = month_of(2)
    queue_pages(
        embedded, month, [[(world.acme_web, "10", "10")], [(world.acme_api, "5.555", "5")]], estimated=False
    )
    first = costs(embedded, month)
    second = costs(embedded, month, groupBy="account")
    assert len(queries(orgvend_calls)) == 1 and len(orgvend_calls.of("GetCostAndUsage")) == 2
    assert first["estimated"] is False and first["retrievedAt"] == second["retrievedAt"]
    assert first["groups"] == [
        {
            "section": "accounts",
            "client": world.acme,
            "project": None,
            "accountId": None,
            "accountName": None,
            "accounts": 2,
            "unblendedCost": "15.56",
            "amortizedCost": "15.00",
        }
    ]
    kept = embedded.registry_item(f"COSTS#{month}", "ANSWER")
    assert kept is not None and "expiresAt" not in kept  # final: kept for good


def test_a_burst_of_gets_is_one_query(embedded: Harness, world: World, orgvend_calls: OrgvendCalls) -> None:
    month = month_of(3)
    queue_pages(embedded, month, [[(world.globex_shop, "1.01", "1.01")]], estimated=False)
    answers: list[dict[str, Any]] = []

    def get() -> None:
        answers.append(costs(embedded, month))

    threads = [threading.Thread(target=get) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 6
    assert {answer["totals"]["all"]["unblendedCost"] for answer in answers} == {"1.01"}
    assert len(queries(orgvend_calls)) == 1


@pytest.mark.parametrize("month", ["2026-13", "26-11", "next month", "2026-1", ""])
def test_an_invalid_month_is_422_naming_month(
    embedded: Harness, month: str, orgvend_calls: OrgvendCalls
) -> None:
    if month == "next month":
        month = next_month_of(month_of(0))
    status, body = call(embedded, "GET", f"/costs?month={quote(month)}")
    assert status == 422, body
    assert body["error"]["code"] == "ValidationError" and body["error"]["field"] == "month"
    assert orgvend_calls.of("GetCostAndUsage") == []


def test_the_cli_refuses_a_month_in_the_future_before_asking(
    embedded: Harness, capsys: pytest.CaptureFixture[str], orgvend_calls: OrgvendCalls
) -> None:
    code, _, _ = cli("--api-url", embedded.outputs["ApiUrl"], "costs", "--month", next_month_of(month_of(0)))
    assert code == 2 and "must not be in the future" in capsys.readouterr().err  # argparse's usage error
    assert orgvend_calls.made == []


# --------------------------------------------------------------------------- the monthly report


def object_versions(embedded: Harness, bucket: str, key: str) -> list[dict[str, Any]]:
    listed = embedded.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    return [version for version in listed.get("Versions", []) if version["Key"] == key]


def test_the_monthly_report_writes_one_object_per_month_and_links_it(
    embedded: Harness, world: World, orgvend_calls: OrgvendCalls
) -> None:
    month = month_of(1)  # last month: what the schedule reports
    queue_pages(embedded, month, [[(world.acme_web, "42.42", "40")], [(OUTSIDER, "1", "1")]], estimated=False)
    bucket = embedded.outputs["CostReportBucketName"]
    key = f"costs/{month}.csv"

    first = embedded.invoke("ReportMonthlyCostsFunction", {})  # the schedule's event: last month
    rerun = embedded.invoke("ReportMonthlyCostsFunction", {"month": month})

    assert first["key"] == rerun["key"] == key and first["month"] == month
    assert first["versionId"] != rerun["versionId"]
    versions = object_versions(embedded, bucket, key)
    assert {version["VersionId"] for version in versions} == {first["versionId"], rerun["versionId"]}
    keys = embedded.client("s3").list_objects_v2(Bucket=bucket, Prefix="costs/").get("Contents", [])
    assert [item["Key"] for item in keys].count(key) == 1  # a rerun overwrites: one object per month
    body = embedded.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    lines = list(csv.DictReader(io.StringIO(body, newline="")))
    assert {(line["section"], line["accountId"], line["unblendedCost"]) for line in lines} == {
        ("accounts", world.acme_web, "42.42"),
        ("unknown", OUTSIDER, "1.00"),
    }
    assert len(queries(orgvend_calls)) == 1  # the rerun used the kept answer

    message = embedded.operator_message_about(f"s3://{bucket}/{key}")
    assert message["Subject"] == f"orgvend: costs for {month}: USD 43.42"
    assert world.acme in message["Message"] and "unknown" in message["Message"]
    assert f"https://s3.console.aws.amazon.com/s3/object/{bucket}?region=us-east-1" in message["Message"]
    assert f"prefix={key}" in message["Message"]


# --------------------------------------------------------------------------- the page, in a browser


class Bars(HTMLParser):
    """The overview chart's bars (client, amount, width) and the page's totals, as Chromium rendered them."""

    def __init__(self, content: str) -> None:
        super().__init__(convert_charrefs=True)
        self.bars: list[dict[str, str]] = []
        self.scripts = 0
        self._chart = False
        self.feed(content)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "figure":
            self._chart = attributes.get("id") == "clients-chart"
        elif tag == "rect" and self._chart and "bar" in attributes.get("class", "").split():
            self.bars.append(attributes)
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._chart = False


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not (CHROMIUM.is_file() and shutil.which(str(CHROMIUM))):
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    return CHROMIUM


@pytest.fixture
def html_report(embedded: Harness, world: World, this_month: str) -> Iterator[Path]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    code, _, err = cli(
        "--api-url",
        embedded.outputs["ApiUrl"],
        "costs",
        "--month",
        this_month,
        "--format",
        "html",
        "-o",
        str(HTML_REPORT),
    )
    assert code == 0, err
    yield HTML_REPORT


def run_chromium(chromium: Path, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    finished_run = subprocess.run(
        [str(chromium), *FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished_run.returncode == 0, finished_run.stderr[-3000:]
    return finished_run


def test_the_html_report_opens_in_a_browser_and_its_bars_are_the_totals(
    chromium: Path, html_report: Path, embedded: Harness, world: World, this_month: str, tmp_path: Path
) -> None:
    rendered = run_chromium(
        chromium,
        tmp_path / "dom",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=3000",
        "--dump-dom",
        html_report.as_uri(),
    )
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no CSP violation, no error
    page = Bars(rendered.stdout)
    assert page.scripts == 0
    report = costs(embedded, this_month, groupBy="client")
    clients = {g["client"]: g["unblendedCost"] for g in report["groups"] if g["section"] == "accounts"}
    bars = {bar["data-client"]: bar for bar in page.bars if "data-client" in bar}
    assert {client: bar["data-amount"] for client, bar in bars.items()} == clients
    sections = {bar["data-section"]: bar["data-amount"] for bar in page.bars if "data-section" in bar}
    assert sections == {
        "offboarded": report["totals"]["offboarded"]["unblendedCost"],
        "unknown": report["totals"]["unknown"]["unblendedCost"],
    }
    # The longest bar is the largest amount; the others in proportion (to the rounding of the width).
    widths = {bar["data-amount"]: Decimal(bar["width"]) for bar in page.bars}
    largest = max(Decimal(amount) for amount in widths)
    for amount, width in widths.items():
        expected = max(Decimal(amount), Decimal(0)) / largest * widths[str(largest)]
        assert abs(width - expected) <= Decimal("0.01"), (amount, width, expected)

    SCREENSHOT.unlink(missing_ok=True)
    run_chromium(
        chromium,
        tmp_path / "shot",
        "--hide-scrollbars",
        f"--screenshot={SCREENSHOT}",
        "--window-size=1280,900",
        html_report.as_uri(),
    )
    assert SCREENSHOT.is_file() and SCREENSHOT.stat().st_size > 20_000
    width, height, pixels = png_pixels(SCREENSHOT)
    assert (width, height) == (1280, 900) and len(set(pixels)) > 64
