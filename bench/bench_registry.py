"""The registry at 10,000 accounts: one client's accounts are read without reading anyone else's; exports.

Run: .venv/bin/python bench/bench_registry.py [--accounts N]

moto in-process (``mock_aws``), the table made from template.yaml's RegistryTable definition (as
tests/unit/conftest.py does), items written in the Registry's own shape (``Registry._account_item``,
as tests/unit/test_reconcile_registry.py's ``write_records``), the records of bench_exports.py
(N accounts over N/20 clients).

1. One client's accounts through ``Registry.list_accounts(client=...)`` and through the API's
   Accounts page (``orgvend.workflows.accounts.Accounts.page``, pages of 25), counting every DynamoDB
   call with botocore hooks (``before-call``: operations; ``after-call``: the Query responses'
   ``ScannedCount`` and ``Count``). Goal: only Queries, and items scanned == items returned
   == that client's accounts. For contrast, the Scan-with-filter that would find the same accounts.
2. Every account read back (``Registry.all_accounts``: Queries on the Accounts index) and exported
   with orgvend.exports in each format. Goal: each format under 2 s (bench_exports's goal).

moto answers in-process: read times say nothing of DynamoDB's latency, the counts are exact.
Exits 1 when a goal is missed.
"""

import argparse
import math
import os
import sys
import time
from collections import Counter
from typing import Any

for _name, _value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
}.items():
    os.environ[_name] = _value
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402 (after the environment above)
from bench_exports import build_records  # noqa: E402
from benchkit import item_size, say  # noqa: E402
from moto import mock_aws  # noqa: E402

from orgvend import registry as registry_items  # noqa: E402
from orgvend.exports import ExportFormat, ExportOptions, export_accounts  # noqa: E402
from orgvend.registry import Registry  # noqa: E402
from orgvend.workflows.accounts import Accounts  # noqa: E402
from orgvend_local.template import Template  # noqa: E402

EXPORT_GOAL_SECONDS = 2.0
API_PAGE = 25
PAGE = 1_000  # Registry.all_accounts's page size


class DynamoCalls:
    """Operations made and, for each Query, (ScannedCount, Count, bytes returned)."""

    def __init__(self, client: Any) -> None:
        self.operations: Counter[str] = Counter()
        self.queries: list[tuple[int, int, int]] = []
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after_query)

    def _before(self, model: Any, **_: Any) -> None:
        self.operations[model.name] += 1

    def _after_query(self, parsed: dict[str, Any], **_: Any) -> None:
        size = sum(item_size(item) for item in parsed.get("Items", []))
        self.queries.append((int(parsed["ScannedCount"]), int(parsed["Count"]), size))

    def reset(self) -> None:
        self.operations.clear()
        self.queries.clear()

    @property
    def read_units(self) -> float:
        """Eventually consistent reads: half a unit per 4 KB, rounded up per Query."""
        return sum(max(1, math.ceil(size / 4096)) * 0.5 for _, _, size in self.queries)


def main() -> int:  # noqa: PLR0912 (one report)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument(
        "--read-back", action="store_true", help="read every account back through moto (slow)"
    )
    arguments = parser.parse_args()
    problems: list[str] = []

    with mock_aws():
        template = Template.load()
        properties = template.resources["RegistryTable"]["Properties"]
        table = template.physical_name("RegistryTable")
        dynamodb = boto3.session.Session(region_name="us-east-1").client("dynamodb")
        dynamodb.create_table(
            TableName=table,
            **{
                key: properties[key]
                for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            },
        )
        registry = Registry(dynamodb, table)
        records = build_records(arguments.accounts)
        began = time.perf_counter()
        items = [{"PutRequest": {"Item": registry._account_item(record)}} for record in records]
        for start in range(0, len(items), 25):
            dynamodb.batch_write_item(RequestItems={table: items[start : start + 25]})
        written = time.perf_counter() - began
        per_client = Counter(record.client for record in records)
        say(
            f"{len(records):,} accounts of {len(per_client)} clients written in {written:.1f} s "
            f"({len(items) // 25 + bool(len(items) % 25)} BatchWriteItem calls, moto in-process)\n"
        )
        calls = DynamoCalls(dynamodb)

        # 1. One client's accounts.
        client, expected = per_client.most_common(1)[0]
        say(f"client {client!r}: {expected} accounts of {len(records):,}")
        rows = []
        for label in ("Registry.list_accounts", "API Accounts page"):
            calls.reset()
            found, token, key = [], None, None
            began = time.perf_counter()
            while True:
                if label == "Registry.list_accounts":
                    page, key = registry.list_accounts(client=client, start_key=key)
                    found += page
                    if not key:
                        break
                else:
                    answer = Accounts(registry, organizations=None).page(client, None, None, API_PAGE, token)
                    found += answer.items
                    token = answer.next_token
                    if not token:
                        break
            seconds = time.perf_counter() - began
            scanned = sum(s for s, _, _ in calls.queries)
            returned = sum(c for _, c, _ in calls.queries)
            others = sum(1 for item in found if item.client != client)
            rows.append(
                (label, dict(calls.operations), scanned, returned, len(found), calls.read_units, seconds)
            )
            if set(calls.operations) != {"Query"}:
                problems.append(f"{label}: operations {dict(calls.operations)}")
            if not (scanned == returned == len(found) == expected) or others:
                problems.append(
                    f"{label}: scanned {scanned}, returned {returned}, listed {len(found)} of {expected}"
                )
        say(f"  {'through':<24}{'calls':<18}{'scanned':>8}{'returned':>9}{'listed':>7}{'RRU':>7}{'ms':>7}")
        for label, operations, scanned, returned, listed, units, seconds in rows:
            calls_text = ", ".join(f"{count} {name}" for name, count in operations.items())
            say(
                f"  {label:<24}{calls_text:<18}{scanned:>8}{returned:>9}{listed:>7}{units:>7.1f}{seconds * 1000:>7.0f}"
            )
        # The contrast: the same accounts found by a Scan with a filter (never done by orgvend).
        calls.reset()
        scanned_items = filtered = 0
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="#c = :c",
            ExpressionAttributeNames={"#c": "client"},
            ExpressionAttributeValues={":c": {"S": client}},
        ):
            scanned_items += page["ScannedCount"]
            filtered += page["Count"]
        scan_bytes = sum(item_size(item["PutRequest"]["Item"]) for item in items)  # the whole table is read
        say(
            f"  {'(a Scan with a filter)':<24}{'':<18}{scanned_items:>8}{filtered:>9}{'':>7}"
            f"{math.ceil(scan_bytes / 4096) * 0.5:>7.0f}   <- what a Scan would read instead"
        )

        # 2. Every account read back and exported. Registry.all_accounts through moto takes about 50 s
        # at 10,000 (moto sorts the whole index partition for every page): only with --read-back;
        # by default the written items go through the registry's own item-to-record conversion.
        began = time.perf_counter()
        if arguments.read_back:
            calls.reset()
            everything = list(registry.all_accounts())
            how = (
                f"Registry.all_accounts: {calls.operations['Query']} Queries on the Accounts index, "
                f"{sum(s for s, _, _ in calls.queries):,} items scanned (moto's time, not DynamoDB's)"
            )
        else:
            everything = [registry_items._record(item["PutRequest"]["Item"]) for item in items]
            page_bytes = max(item_size(item["PutRequest"]["Item"]) for item in items) * PAGE
            how = (
                f"the registry's item-to-record conversion; Registry.all_accounts would make "
                f"{math.ceil(len(items) / PAGE)} Queries of {PAGE:,} (at most {page_bytes / 1e6:.2f} MB a page, "
                f"under DynamoDB's 1 MB); --read-back to run them on moto"
            )
        read = time.perf_counter() - began
        say(f"\nall {len(everything):,} accounts back as AccountRecords in {read:.2f} s ({how})")
        if len(everything) != len(records):
            problems.append(f"read back {len(everything)} of {len(records)}")

    options = ExportOptions(management_account_id="999988887777", role_session_name="bench")
    say(f"  {'export':<22}{'seconds':>9}{'accounts':>10}{'size':>11}")
    timings = {}
    for fmt in ExportFormat:
        began = time.perf_counter()
        export = export_accounts(everything, fmt, options)
        timings[fmt] = time.perf_counter() - began
        size = len(export.content.encode("utf-8")) / 1_048_576
        say(f"  {fmt.value:<22}{timings[fmt]:>9.3f}{export.count:>10,}{size:>9.2f} MB")
    slowest = max(timings, key=lambda fmt: timings[fmt])
    if timings[slowest] >= EXPORT_GOAL_SECONDS:
        problems.append(f"export {slowest.value} took {timings[slowest]:.2f} s")

    (label, _, scanned, returned, listed, units, _) = rows[0]
    say(
        f"SUMMARY: registry of {len(records):,}: client {client!r} listed by Query only, scanned {scanned} == "
        f"returned {returned} == its {expected} accounts ({units:.1f} RRU vs {scanned_items:,} items for a Scan); "
        f"{len(everything):,} records rebuilt from items in {read:.2f} s, every export < {EXPORT_GOAL_SECONDS:.0f} s "
        f"(slowest {slowest.value} {timings[slowest]:.3f} s, all {sum(timings.values()):.2f} s): "
        + ("OK" if not problems else "MISSED: " + "; ".join(problems))
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
