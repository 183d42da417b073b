"""How long each export of orgvend.exports takes for a large registry (default 10,000 accounts).

Run: .venv/bin/python bench/bench_exports.py [--accounts N] [--repeat R]

Prints seconds per format (best of R runs), the output size, and a summary line;
exits 1 when a format takes longer than the goal (2 s), so CI can run it too.
"""

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from orgvend.exports import ExportFormat, ExportOptions, export_accounts
from orgvend.models import AccountRecord, AccountStatus

GOAL_SECONDS = 2.0
PROJECTS = ("web", "api", "data", "ml", "mobile", "platform", "billing", "search", "cdn", "ops")


def build_records(count: int, seed: int = 2024) -> list[AccountRecord]:
    """``count`` accounts over count/20 clients; some share client and project, a few are closed."""
    generator = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    clients = [f"client-{number:04d}" for number in range(max(1, count // 20))]
    records = []
    for number in range(count):
        client = generator.choice(clients)
        project = generator.choice(PROJECTS)
        account_id = f"{100_000_000_000 + number:012d}"
        created = start + timedelta(minutes=generator.randrange(3_000_000))
        records.append(
            AccountRecord(
                account_id=account_id,
                account_name=f"{client}-{project}"[:50],
                email=f"aws+{account_id}@example.com",
                client=client,
                project=project,
                role_name="OrganizationAccountAccessRole",
                status=AccountStatus.ACTIVE if generator.random() < 0.95 else AccountStatus.CLOSED,
                ou_id="ou-ab12-cdef3456",
                tags={"cost-center": str(generator.randrange(100))},
                created_at=created,
                updated_at=created + timedelta(days=1),
            )
        )
    generator.shuffle(records)
    return records


def best_of(repeat: int, fmt: ExportFormat, records: list[AccountRecord], options: ExportOptions):
    timings, export = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        export = export_accounts(records, fmt, options)
        timings.append(time.perf_counter() - began)
    assert export is not None
    return min(timings), export


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    began = time.perf_counter()
    records = build_records(arguments.accounts)
    built = time.perf_counter() - began
    options = ExportOptions(management_account_id="999988887777", role_session_name="bench")
    print(
        f"{len(records):,} AccountRecords built in {built:.2f} s; best of {arguments.repeat} runs per format\n"
    )
    print(f"{'format':<22}{'seconds':>9}{'accounts':>10}{'size':>11}")
    print("-" * 52)
    results = {}
    for fmt in ExportFormat:
        seconds, export = best_of(arguments.repeat, fmt, records, options)
        results[fmt] = seconds
        size = len(export.content.encode("utf-8"))
        print(f"{fmt.value:<22}{seconds:>9.3f}{export.count:>10,}{size / 1_048_576:>9.2f} MB")
    slowest = max(results, key=lambda fmt: results[fmt])
    total = sum(results.values())
    verdict = "OK" if results[slowest] < GOAL_SECONDS else "TOO SLOW"
    print("-" * 52)
    print(
        f"{len(records):,} accounts: all {len(results)} formats in {total:.2f} s, "
        f"slowest {slowest.value} {results[slowest]:.3f} s (goal < {GOAL_SECONDS:.0f} s per format): {verdict}"
    )
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
