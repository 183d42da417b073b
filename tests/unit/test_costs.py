"""The costs report: Cost Explorer's pages, the join, the sections, exact totals, the cache, the files."""

import csv
import io
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend import rules
from orgvend.budgets import budget_name
from orgvend.clock import set_clock
from orgvend.costs import query
from orgvend.costs.budgets import budget_limits
from orgvend.costs.models import AccountOwner, CostAnswer, CostLine, GroupBy, Section, previous_month
from orgvend.costs.report import CostReports, InvalidMonth, build_report, group_rows
from orgvend.exports.costs import costs_csv, costs_html
from orgvend.models import AccountStatus
from orgvend.reactions.report_monthly_costs import console_url, report_key, summary_message
from orgvend.registry import costs as cached
from orgvend_cli import render

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    set_clock(lambda: NOW)
    yield
    set_clock(None)


def group(account_id: str, unblended: str, amortized: str | None = None) -> dict[str, Any]:
    return {
        "Keys": [account_id],
        "Metrics": {
            "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
            "AmortizedCost": {"Amount": amortized or unblended, "Unit": "USD"},
        },
    }


def page(groups: list[dict[str, Any]], token: str | None = None, estimated: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"},
                "Total": {},
                "Groups": groups,
                "Estimated": estimated,
            }
        ],
        "DimensionValueAttributes": [
            {"Value": g["Keys"][0], "Attributes": {"description": f"name-{g['Keys'][0]}"}} for g in groups
        ],
    }
    if token:
        answer["NextPageToken"] = token
    return answer


class FakeCostExplorer:
    """GetCostAndUsage answering pages by NextPageToken, every request recorded."""

    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def get_cost_and_usage(self, **request: Any) -> dict[str, Any]:
        with self.lock:
            self.requests.append(request)
        index = int(request.get("NextPageToken", "page-0").split("-")[1])
        return self.pages[index]


class FakeBudgets:
    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []

    def describe_budgets(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        index = int(request.get("NextToken", "0"))
        answer: dict[str, Any] = {"Budgets": self.pages[index]}
        if index + 1 < len(self.pages):
            answer["NextToken"] = str(index + 1)
        return answer


def budget(account_id: str, amount: str, name: str | None = None) -> dict[str, Any]:
    return {
        "BudgetName": name or budget_name(account_id),
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
    }


THREE_PAGES = [
    page([group("111111111111", "10.005", "9.994"), group("222222222222", "-1.2349", "0")], "page-1"),
    page([group("333333333333", "5"), group("111111111111", "0.001")], "page-2"),
    page([group("444444444444", "7.10"), group("555555555555", "2.675")]),
]
OWNERS = [
    AccountOwner(
        account_id="111111111111",
        account_name="acme-web",
        client="acme",
        project="web",
        status=AccountStatus.ACTIVE,
    ),
    AccountOwner(
        account_id="222222222222",
        account_name="acme-api",
        client="acme",
        project="api",
        status=AccountStatus.ACTIVE,
    ),
    AccountOwner(
        account_id="444444444444",
        account_name="globex-shop",
        client="globex",
        project="shop",
        status=AccountStatus.DETACHED,
        offboarded_at=datetime(2026, 11, 20, tzinfo=UTC),
    ),
    AccountOwner(  # closed after November: it was globex's for the whole month
        account_id="555555555555",
        account_name="globex-data",
        client="globex",
        project="data",
        status=AccountStatus.CLOSED,
        offboarded_at=datetime(2026, 12, 2, tzinfo=UTC),
    ),
]


# --------------------------------------------------------------------------- the query


def test_one_query_follows_every_page_and_adds_up_an_account_on_two_pages() -> None:
    ce = FakeCostExplorer(THREE_PAGES)
    answer = query.cost_and_usage(ce, "2026-11", retrieved_at=NOW)  # type: ignore[arg-type]
    assert answer.pages == 3 and len(ce.requests) == 3
    first = ce.requests[0]
    assert first == {
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost", "AmortizedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
    }
    assert [request.get("NextPageToken") for request in ce.requests] == [None, "page-1", "page-2"]
    assert all({k: v for k, v in request.items() if k != "NextPageToken"} == first for request in ce.requests)
    lines = {line.account_id: line for line in answer.lines}
    assert lines["111111111111"].unblended == Decimal("10.006")  # exact: 10.005 + 0.001
    assert lines["222222222222"].unblended == Decimal("-1.2349")
    assert lines["333333333333"].name == "name-333333333333"
    assert answer.estimated is False and answer.final


def test_a_month_is_final_only_when_cost_explorer_says_nothing_is_estimated() -> None:
    estimated = query.cost_and_usage(
        FakeCostExplorer([page([group("111111111111", "1")], estimated=True)]),  # type: ignore[arg-type]
        "2026-12",
        retrieved_at=NOW,
    )
    assert estimated.estimated and not estimated.final
    empty = query.cost_and_usage(FakeCostExplorer([{"ResultsByTime": []}]), "2026-10", retrieved_at=NOW)  # type: ignore[arg-type]
    assert not empty.estimated and not empty.final  # nothing said: asked again within the hour


def test_the_period_runs_to_the_next_month_across_the_year() -> None:
    assert query.month_period("2026-12") == {"Start": "2026-12-01", "End": "2027-01-01"}
    assert previous_month(date(2027, 1, 3)) == "2026-12"
    assert previous_month(date(2026, 12, 3)) == "2026-11"


def test_no_data_for_the_month_is_costs_unavailable() -> None:
    class Refusing:
        def get_cost_and_usage(self, **_: Any) -> dict[str, Any]:
            raise ClientError(
                {"Error": {"Code": "DataUnavailableException", "Message": "no data"}}, "GetCostAndUsage"
            )

    with pytest.raises(query.CostsUnavailable):
        query.cost_and_usage(Refusing(), "2024-01", retrieved_at=NOW)  # type: ignore[arg-type]


def test_two_currencies_are_refused_rather_than_added() -> None:
    mixed = page([group("111111111111", "1")])
    mixed["ResultsByTime"][0]["Groups"].append(
        {"Keys": ["222222222222"], "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "CNY"}}}
    )
    with pytest.raises(query.UnexpectedCosts):
        query.cost_and_usage(FakeCostExplorer([mixed]), "2026-11", retrieved_at=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("month", "problem"),
    [
        ("2026-13", "YYYY-MM"),
        ("26-11", "YYYY-MM"),
        ("2027-01", "future"),
        ("2026-12", None),
        ("2019-01", None),
    ],
)
def test_months(month: str, problem: str | None) -> None:
    found = rules.month_problem(month)
    assert (found is None) if problem is None else (problem in (found or ""))


# --------------------------------------------------------------------------- budgets


def test_budget_limits_are_read_page_by_page_and_only_orgvends() -> None:
    budgets = FakeBudgets(
        [
            [budget("111111111111", "8"), budget("999999999999", "1", name="team-budget")],
            [budget("222222222222", "100.5"), {**budget("333333333333", "5"), "TimeUnit": "ANNUALLY"}],
        ]
    )
    limits = budget_limits(budgets, "123456789012")  # type: ignore[arg-type]
    assert limits == {"111111111111": Decimal("8"), "222222222222": Decimal("100.5")}
    assert [request.get("NextToken") for request in budgets.requests] == [None, "1"]
    assert all(request["AccountId"] == "123456789012" for request in budgets.requests)


# --------------------------------------------------------------------------- the report


def answer_of(pages: list[dict[str, Any]]) -> CostAnswer:
    return query.cost_and_usage(FakeCostExplorer(pages), "2026-11", retrieved_at=NOW)  # type: ignore[arg-type]


def test_every_account_is_in_one_section_and_the_totals_are_the_sums_of_the_rows() -> None:
    report = build_report(answer_of(THREE_PAGES), OWNERS, {"111111111111": Decimal("8")}, GroupBy.PROJECT)
    assert [row.account_id for row in report.accounts] == ["222222222222", "111111111111", "555555555555"]
    assert [row.account_id for row in report.offboarded] == ["444444444444"]
    assert [row.account_id for row in report.unknown] == ["333333333333"]
    web = report.accounts[1]
    assert (web.unblended_cost, web.amortized_cost) == (Decimal("10.01"), Decimal("10.00"))  # 10.006, 9.995
    assert (web.budget_limit, web.budget_percent_used) == (Decimal("8.00"), Decimal("125.1"))
    assert report.accounts[0].unblended_cost == Decimal("-1.23")
    assert report.accounts[2].unblended_cost == Decimal("2.68")  # half up
    for section in Section:
        rows = getattr(report, section.value)
        total = getattr(report.totals, section.value)
        assert total.unblended_cost == sum((row.unblended_cost for row in rows), Decimal(0))
        assert total.amortized_cost == sum((row.amortized_cost for row in rows), Decimal(0))
        groups = [g for g in report.groups if g.section == section]
        assert sum((g.unblended_cost for g in groups), Decimal(0)) == total.unblended_cost
    assert report.totals.all.accounts == 5
    assert report.totals.all.unblended_cost == Decimal("23.56")
    projects = {
        (g.client, g.project): g.unblended_cost for g in report.groups if g.section == Section.ACCOUNTS
    }
    assert projects == {
        ("acme", "api"): Decimal("-1.23"),
        ("acme", "web"): Decimal("10.01"),
        ("globex", "data"): Decimal("2.68"),
    }


def test_json_carries_amounts_as_exact_strings() -> None:
    report = build_report(answer_of(THREE_PAGES), OWNERS, {}, GroupBy.CLIENT)
    document = report.to_json()
    assert document["totals"]["all"]["unblendedCost"] == "23.56"
    assert document["accounts"][0]["unblendedCost"] == "-1.23"
    assert {g["client"]: g["unblendedCost"] for g in document["groups"] if g["section"] == "accounts"} == {
        "acme": "8.78",
        "globex": "2.68",
    }


def test_a_client_filter_keeps_its_accounts_and_offboarded_ones_and_no_unknown() -> None:
    report = build_report(answer_of(THREE_PAGES), OWNERS, {}, GroupBy.ACCOUNT, client="globex")
    assert [row.account_id for row in report.rows()] == ["555555555555", "444444444444"]
    assert report.unknown == [] and report.totals.all.unblended_cost == Decimal("9.78")


# --------------------------------------------------------------------------- the cache


@pytest.fixture
def reports(registry):
    ce = FakeCostExplorer(THREE_PAGES)
    budgets = FakeBudgets([[budget("111111111111", "8")]])
    return CostReports(ce, budgets, registry, "123456789012", sleep=lambda _: None), ce  # type: ignore[arg-type]


def test_a_second_report_of_a_final_month_is_served_from_the_registry(reports, registry) -> None:
    costs, ce = reports
    first = costs.report("2026-11", GroupBy.CLIENT)
    second = costs.report("2026-11", GroupBy.ACCOUNT, client="acme")
    assert len(ce.requests) == 3  # one query: its three pages
    assert first.retrieved_at == second.retrieved_at
    set_clock(lambda: NOW + timedelta(days=400))  # a final month is kept
    costs.report("2026-11")
    assert len(ce.requests) == 3


def test_an_estimated_month_is_asked_again_after_an_hour(registry) -> None:
    ce = FakeCostExplorer([page([group("111111111111", "1")], estimated=True)])
    costs = CostReports(ce, FakeBudgets([[]]), registry, "123456789012")  # type: ignore[arg-type]
    costs.report("2026-12")
    set_clock(lambda: NOW + timedelta(minutes=59))
    costs.report("2026-12")
    assert len(ce.requests) == 1
    set_clock(lambda: NOW + timedelta(minutes=61))
    costs.report("2026-12")
    assert len(ce.requests) == 2


def test_a_large_answer_is_split_and_read_back_whole(registry, monkeypatch) -> None:
    monkeypatch.setattr(cached, "PART_LINES", 7)
    lines = [
        CostLine(account_id=f"{number:012d}", unblended=Decimal(f"{number}.123456"), amortized=Decimal(0))
        for number in range(1, 31)
    ]
    answer = CostAnswer(month="2026-10", estimated=False, lines=lines, retrieved_at=NOW, pages=2)
    registry.save_cost_answer(answer, None)
    assert registry.cost_answer("2026-10", NOW) == answer


def test_an_expired_answer_is_not_used_even_before_dynamodb_deletes_it(registry) -> None:
    answer = CostAnswer(month="2026-12", estimated=True, lines=[], retrieved_at=NOW, pages=1)
    registry.save_cost_answer(answer, NOW + timedelta(hours=1))
    assert registry.cost_answer("2026-12", NOW + timedelta(minutes=30)) == answer
    assert registry.cost_answer("2026-12", NOW + timedelta(hours=1)) is None


def test_a_report_waits_for_the_query_another_one_is_making(reports, registry) -> None:
    costs, ce = reports
    assert registry.claim_cost_query("2026-11", NOW + timedelta(seconds=60), NOW)  # someone is asking
    waits = []

    def sleep(seconds: float) -> None:  # the other report answers while this one waits
        waits.append(seconds)
        registry.save_cost_answer(answer_of(THREE_PAGES), None)

    costs.sleep = sleep
    costs.report("2026-11")
    assert len(waits) == 1 and ce.requests == []


def test_invalid_months_are_refused_before_any_call(reports) -> None:
    costs, ce = reports
    for month in ("2026-13", "26-11", "2027-01"):
        with pytest.raises(InvalidMonth):
            costs.report(month)
    assert ce.requests == []


# --------------------------------------------------------------------------- files and messages


def test_the_csv_is_one_line_per_account_guarded_and_numeric() -> None:
    hostile = page([group("333333333333", "-5")])
    hostile["DimensionValueAttributes"] = [
        {"Value": "333333333333", "Attributes": {"description": "=HYPERLINK()"}}
    ]
    report = build_report(answer_of([hostile]), [], {}, GroupBy.ACCOUNT)
    (row,) = list(csv.DictReader(io.StringIO(costs_csv(report), newline="")))
    assert row["accountName"] == "'=HYPERLINK()"
    assert row["unblendedCost"] == "-5.00"  # a credit stays a number
    assert row["section"] == "unknown" and row["month"] == "2026-11"


def test_the_csv_by_client_adds_up_to_the_total() -> None:
    report = build_report(answer_of(THREE_PAGES), OWNERS, {}, GroupBy.CLIENT)
    rows = list(csv.DictReader(io.StringIO(costs_csv(report), newline="")))
    assert sum(Decimal(row["unblendedCost"]) for row in rows) == report.totals.all.unblended_cost


def test_the_page_has_no_script_and_the_switch_role_pages_policy() -> None:
    report = build_report(answer_of(THREE_PAGES), OWNERS, {"111111111111": Decimal("8")}, GroupBy.CLIENT)
    page_text = costs_html(report)
    assert "<script" not in page_text
    assert "default-src &#x27;none&#x27;" in page_text and "img-src &#x27;none&#x27;" in page_text
    for client_group in group_rows(report.accounts, GroupBy.CLIENT):
        assert (
            f'data-amount="{client_group.unblended_cost:f}" data-client="{client_group.client}"' in page_text
        )


def test_the_operators_message_has_a_line_per_client_and_the_link() -> None:
    report = build_report(answer_of(THREE_PAGES), OWNERS, {"111111111111": Decimal("8")}, GroupBy.ACCOUNT)
    key = report_key("2026-11")
    link = console_url("orgvend-costreportbucket-x", key, "us-east-1")
    subject, body = summary_message(report, f"s3://orgvend-costreportbucket-x/{key}", link)
    assert subject == "orgvend: costs for 2026-11: USD 23.56"
    assert "acme" in body and "globex" in body and "offboarded" in body and "unknown" in body
    assert "s3://orgvend-costreportbucket-x/costs/2026-11.csv" in body and link in body
    assert "acme-web (111111111111): 10.01 of 8.00, 125.1 %" in body


def test_the_clis_table_shows_each_group_and_the_totals() -> None:
    report = build_report(answer_of(THREE_PAGES), OWNERS, {}, GroupBy.PROJECT)
    text = render.costs_view(report)
    assert "Costs for 2026-11 (final)" in text
    assert "Offboarded (detached or closed before the month ended):" in text
    assert "Total:" in text and "23.56 unblended" in text
