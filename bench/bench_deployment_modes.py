"""What a hub deployment costs over a single-account one (issue 17): the same onboardings in both modes.

Run: .venv/bin/python bench/bench_deployment_modes.py   (env BENCH_ACCOUNTS: onboardings, default 10)

Each mode runs in a process of its own (moto's backends and the emulator's patches are process-wide):
the parent starts ``--mode single`` and ``--mode hub`` one after the other and compares their figures.
In each, BENCH_ACCOUNTS onboardings are POSTed one after another through the local API (creation latency
1 s) and awaited to SUCCEEDED; every call of orgvend's functions is counted (``before-send`` on their
session) with the principal that signs it. Figures: wall time per onboarding (median), calls per
onboarding, calls made through the management role, and how often the role was assumed: botocore's
refreshable credentials should assume it once per function process, not once per call or per client.

Hard goals (exit 1 when missed): every onboarding succeeds in both modes; in the hub, every call to a
management-account service is signed by the management role, none by a function's own role, and the role
is assumed at most once per function that uses it (no refresh falls due within a run of minutes).
The time ratio hub / single is reported, not held: locally both modes share one process and one moto.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from benchkit import execution_arn, post_onboardings, say, start_embedded

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "10"))
HERE = Path(__file__).resolve().parent


class Signers:
    """Every request of orgvend's functions: (service, operation, principal ARN of its access key), and
    each AssumeRole's (caller, role)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.assumed: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def record(self, request: Any, event_name: str, **_: Any) -> None:
        from orgvend_local.parity.sts import principal_of_request  # noqa: PLC0415

        _, service, operation = event_name.split(".", 2)
        principal = principal_of_request(request)
        with self._lock:
            self.calls.append((service, operation, principal))
            if (service, operation) == ("sts", "AssumeRole"):
                body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
                self.assumed.append((principal, unquote(body.split("RoleArn=", 1)[1].split("&", 1)[0])))


def run_mode(mode: str) -> dict[str, Any]:
    """The figures of one mode, in this process."""
    from orgvend import aws  # noqa: PLC0415

    runtime = start_embedded(creation_seconds=1.0, mode=mode)
    assert runtime.mode == mode, runtime.mode
    signers = Signers()
    aws.session().events.register("before-send", signers.record)
    aws.reset()
    api_url = runtime.deployment.outputs["ApiUrl"]
    sfn = runtime.client("stepfunctions")
    seconds: list[float] = []
    failed = 0
    for index in range(ACCOUNTS):
        request = {"client": f"bench{index}", "project": "web", "email": f"aws+{mode}-{index}@example.com"}
        began = time.perf_counter()
        [(status, body, _)] = post_onboardings(api_url, [request])
        assert status == 202, body
        arn = execution_arn(runtime, body["onboardingId"])
        while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            time.sleep(0.1)
        seconds.append(time.perf_counter() - began)
        failed += execution["status"] != "SUCCEEDED"
    runtime.stop()

    from orgvend.aws import MANAGEMENT_SERVICES  # noqa: PLC0415
    from orgvend_local.runtime import MANAGEMENT_ACCOUNT_ID  # noqa: PLC0415

    role = f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/orgvend-management"
    management = [
        call
        for call in signers.calls
        if call[0] in MANAGEMENT_SERVICES and ":role/Organization" not in call[2]
    ]
    role_assumed_by = Counter(caller for caller, target in signers.assumed if target == role)
    return {
        "mode": mode,
        "onboardings": ACCOUNTS,
        "failed": failed,
        "median_seconds": statistics.median(seconds),
        "first_seconds": seconds[0],
        "calls": len(signers.calls),
        "management_calls": len(management),
        "management_calls_by_role": sum(1 for call in management if call[2] == role),
        "management_calls_by_functions": sum(1 for call in management if call[2] != role),
        "role_assumed": sum(role_assumed_by.values()),
        "functions_assuming_the_role": len(role_assumed_by),
        "chained_assumptions": sum(1 for caller, _ in signers.assumed if caller == role),
        "direct_member_assumptions": sum(
            1 for caller, target in signers.assumed if role not in (caller, target)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mode", choices=("single", "hub"), help="run one mode here and print its figures as JSON"
    )
    arguments = parser.parse_args()
    if arguments.mode:
        print(json.dumps(run_mode(arguments.mode)), file=sys.__stdout__, flush=True)
        return
    figures = {}
    for mode in ("single", "hub"):
        completed = subprocess.run(
            [sys.executable, str(Path(__file__)), "--mode", mode],
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
        figures[mode] = json.loads(completed.stdout.strip().splitlines()[-1])
    single, hub = figures["single"], figures["hub"]
    say(f"{ACCOUNTS} onboardings one after another, creation latency 1 s, on the embedded AWS")
    say(f"{'':34}{'single':>12}{'hub':>12}")
    for name, label in (
        ("median_seconds", "seconds per onboarding (median)"),
        ("first_seconds", "first onboarding (cold)"),
        ("calls", "AWS calls of the functions"),
        ("management_calls", "  to management-account services"),
        ("management_calls_by_role", "  of those, by the management role"),
        ("management_calls_by_functions", "  of those, by the functions' roles"),
        ("role_assumed", "management role assumed"),
        ("functions_assuming_the_role", "  by so many functions"),
        ("chained_assumptions", "access roles through the role"),
        ("direct_member_assumptions", "access roles, direct attempts"),
    ):
        left, right = single[name], hub[name]
        render = (
            (lambda value: f"{value:12.2f}") if isinstance(left, float) else (lambda value: f"{value:12d}")
        )
        say(f"{label:34}{render(left)}{render(right)}")
    ratio = hub["median_seconds"] / single["median_seconds"]
    say(f"hub / single, seconds per onboarding: {ratio:.2f}")
    goals = {
        "every onboarding succeeded": single["failed"] == 0 and hub["failed"] == 0,
        "hub: every management call by the role": hub["management_calls_by_functions"] == 0
        and hub["management_calls_by_role"] == hub["management_calls"] > 0,
        "single: no call by a management role": single["management_calls_by_role"] == 0,
        "hub: the role assumed once per function (credentials kept)": hub["role_assumed"]
        == hub["functions_assuming_the_role"],
    }
    for goal, met in goals.items():
        say(f"{goal}: {'met' if met else 'MISSED'}")
    say(
        f"SUMMARY: deployment modes, {ACCOUNTS} onboardings: hub/single {ratio:.2f}x per onboarding; "
        f"management calls {hub['management_calls']} all by the role; "
        + ("all goals met" if all(goals.values()) else "goals MISSED")
    )
    sys.exit(0 if all(goals.values()) else 1)


if __name__ == "__main__":
    main()
