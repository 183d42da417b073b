"""A burst of 50 onboardings through the local API, with at most N=5 account creations in progress.

Run: .venv/bin/python bench/bench_burst.py   (env BENCH_LATENCY: creation latency D in seconds, default 5;
BENCH_BURST: onboardings, default 50; BENCH_POLL: the stack's PollIntervalSeconds, default samconfig's local 1)

The limit is enforced twice: by the embedded Organizations (``max_in_progress = N``: a CreateAccount
beyond it fails ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED, as in AWS) and by the stack
(``MaxCreationsInProgress = N``, the DynamoDB semaphore of CreateAccount).

The floor: N creations at a time, each taking D, so 50 need ceil(50/N) x D whatever the
orchestration. Goal: total time (first POST to last execution end) <= 1.2 x floor.
Hard goals (exit 1 when missed): all succeeded, never more than N creations in progress,
ratio <= 1.2. The breakdown says where the time above the floor goes.
"""

import math
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from benchkit import (
    execution_arn,
    history,
    history_figures,
    median,
    post_onboardings,
    say,
    start_embedded,
    wait_for_executions,
)

BURST = int(os.environ.get("BENCH_BURST", "50"))
SLOTS = 5
LATENCY = float(os.environ.get("BENCH_LATENCY", "5"))
POLL = os.environ.get("BENCH_POLL")  # None: samconfig.toml's [local] value (1 s)
RATIO_GOAL = 1.2


def last_stamp(events: list[dict[str, Any]], kind: str, name: str) -> datetime:
    stamps = [
        event["timestamp"]
        for event in events
        if event["type"] == kind
        and (event.get("stateExitedEventDetails") or event.get("stateEnteredEventDetails") or {}).get("name")
        == name
    ]
    return stamps[-1]


def slot_utilisation(holds: list[tuple[datetime, datetime]], slots: int) -> tuple[float, float]:
    """Seconds from the first acquisition to the last release, and the share of slot-seconds in use."""
    start, end = min(a for a, _ in holds), max(r for _, r in holds)
    span = (end - start).total_seconds()
    used = sum((released - acquired).total_seconds() for acquired, released in holds)
    return span, used / (slots * span) if span else 0.0


def main() -> int:
    parameters = {"MaxCreationsInProgress": str(SLOTS)}
    if POLL:
        parameters["PollIntervalSeconds"] = POLL
    runtime = start_embedded(LATENCY, parameters)
    assert runtime.template is not None
    poll = int(runtime.template.parameters["PollIntervalSeconds"])
    behaviour = runtime.organizations_behaviour
    behaviour.max_in_progress = SLOTS
    api_url = runtime.deployment.outputs["ApiUrl"]
    floor = math.ceil(BURST / SLOTS) * LATENCY
    say(
        f"burst of {BURST} onboardings, N={SLOTS} creations in progress at most, creation latency "
        f"D={LATENCY:g} s, PollIntervalSeconds={poll} (stack parameters {parameters})"
    )
    say(f"floor: ceil({BURST}/{SLOTS}) x {LATENCY:g} s = {floor:.1f} s")

    # Warm-up: one onboarding first, so that every handler module is imported (the in-process
    # Lambda imports a handler on its first invocation, one at a time) and the client's OU exists.
    began = time.perf_counter()
    warm = post_onboardings(api_url, [{"client": "warm", "project": "up", "email": "aws+warm@example.com"}])
    wait_for_executions(runtime, [execution_arn(runtime, warm[0][1]["onboardingId"])], timeout=120)
    say(f"warm-up onboarding (cold imports of every handler): {time.perf_counter() - began:.1f} s\n")
    behaviour.peak_in_progress = behaviour.rate_limited = 0
    behaviour.seen_in_progress.clear()
    invocations_before = len(runtime.lambdas.invocations)

    requests = [
        {"client": f"burst{index % 5}", "project": f"p{index:02d}", "email": f"aws+burst-{index:02d}@example.com"}
        for index in range(BURST)
    ]
    started_at = datetime.now(UTC)
    began = time.perf_counter()
    answers = post_onboardings(api_url, requests)
    accepted = time.perf_counter() - began
    statuses = Counter(status for status, _, _ in answers)
    if statuses != {202: BURST}:
        say(f"POST /accounts answers: {statuses}; first non-202: {next(a for a in answers if a[0] != 202)}")
        say("SUMMARY: burst FAILED: not every POST was accepted")
        return 1
    arns = [execution_arn(runtime, body["onboardingId"]) for _, body, _ in answers]
    executions = wait_for_executions(runtime, arns, timeout=max(600.0, 20 * floor))
    wall = time.perf_counter() - began
    ended = max(execution["stopDate"] for execution in executions.values())
    total = (ended - started_at).total_seconds()
    succeeded = sum(1 for execution in executions.values() if execution["status"] == "SUCCEEDED")

    histories = {arn: history(runtime, arn) for arn in arns}
    figures = {arn: history_figures(events) for arn, events in histories.items()}
    holds = [
        (
            last_stamp(events, "TaskStateExited", "CreateAccount"),
            last_stamp(events, "TaskStateExited", "CheckAccountCreation"),
        )
        for arn, events in histories.items()
        if executions[arn]["status"] == "SUCCEEDED"
    ]
    hold_seconds = [(released - acquired).total_seconds() for acquired, released in holds]
    span, utilisation = slot_utilisation(holds, SLOTS)
    first_acquire = min(a for a, _ in holds)
    last_release = max(r for _, r in holds)
    last_start = max(events[0]["timestamp"] for events in histories.values())

    slot_waits = sum(f.entered["WaitForCreationSlot"] for f in figures.values())
    most_waits = max(f.entered["WaitForCreationSlot"] for f in figures.values())
    creation_polls = sum(f.entered["WaitForAccountCreation"] for f in figures.values())
    failed_lambdas = sum(f.lambda_failed for f in figures.values())
    retries = sum(f.retries for f in figures.values())
    transitions = sum(f.billable_transitions for f in figures.values())
    burst_invocations = runtime.lambdas.invocations[invocations_before:]
    handler_seconds = sum(seconds for _, seconds, _ in burst_invocations)
    seen_by_sfn = sum(f.lambda_seconds for f in figures.values())
    by_function = Counter(name.removeprefix("orgvend-") for name, _, _ in burst_invocations)
    ratio = total / floor

    say("results")
    say(f"  succeeded                     {succeeded}/{BURST}")
    say(f"  all POSTs answered 202 in     {accepted:.1f} s (median request {median([a[2] for a in answers]):.2f} s)")
    say(f"  total (first POST -> last end) {total:.1f} s (wall {wall:.1f} s); floor {floor:.1f} s; ratio {ratio:.2f} (goal <= {RATIO_GOAL})")
    say(f"  peak creations in progress    {behaviour.peak_in_progress} (N={SLOTS}; Organizations saw at each CreateAccount: max {max(behaviour.seen_in_progress, default=0)})")
    say(f"  rate-limited CreateAccounts   {behaviour.rate_limited}")
    say(f"  failed Lambda attempts        {failed_lambdas} (retries spent: {retries})")
    say(f"  slot waits                    {slot_waits} WaitForCreationSlot entries (at most {most_waits} for one onboarding)")
    say(f"  creation polls                {creation_polls} WaitForAccountCreation entries")
    say(f"  billable state transitions    {transitions} ({transitions / BURST:.1f} per onboarding)")
    say("")
    say("where the time goes")
    accept_phase = (last_start - started_at).total_seconds()
    tail = (ended - last_release).total_seconds()
    head = (first_acquire - started_at).total_seconds()
    waves = math.ceil(BURST / SLOTS)
    say(f"  first POST -> first slot taken        {head:5.1f} s")
    say(f"  first POST -> last execution started  {accept_phase:5.1f} s (the API accepts one request at a time locally)")
    say(f"  first slot taken -> last slot freed   {span:5.1f} s = {waves} waves x {span / waves:.2f} s (ideal {waves} x {LATENCY:g} s)")
    say(f"     slot held (CreateAccount -> the poll that saw SUCCEEDED): median {median(hold_seconds):.2f} s, max {max(hold_seconds):.2f} s; D = {LATENCY:g} s")
    say(f"     hold above D: median {median(hold_seconds) - LATENCY:.2f} s (the poll interval's granularity plus the polls' own latency)")
    say(f"     slot utilisation {utilisation:.0%} (slot-seconds held / {SLOTS} x span); the rest is hand-over: a waiter retries only every {poll} s")
    say(f"  last slot freed -> last execution end {tail:5.1f} s (Place, Baseline, Register, Notify of the last wave)")
    say(
        f"  in-process Lambda: {len(burst_invocations)} invocations, {handler_seconds:.1f} s inside handlers "
        f"= {handler_seconds / wall:.0%} of the wall time under its one-at-a-time lock; "
        f"Step Functions saw {seen_by_sfn:.1f} s in Lambda calls "
        f"(mean {seen_by_sfn / max(1, len(burst_invocations)) * 1000:.0f} ms per call incl. queueing for the lock, "
        f"vs {handler_seconds / max(1, len(burst_invocations)) * 1000:.0f} ms in the handler)"
    )
    say(f"     invocations by function: {dict(by_function.most_common())}")

    # Invariants: each email created once; every slot free at the end.
    accounts = [
        account
        for page in runtime.client("organizations").get_paginator("list_accounts").paginate()
        for account in page["Accounts"]
    ]
    created = Counter(account["Email"] for account in accounts)
    duplicates = [request["email"] for request in requests if created[request["email"]] != 1]
    semaphore = runtime.client("dynamodb").get_item(
        TableName=runtime.deployment.outputs["RegistryTableName"],
        Key={"pk": {"S": "SEMAPHORE#account-creation"}, "sk": {"S": "SEMAPHORE"}},
    )
    holders = semaphore.get("Item", {}).get("holders", {}).get("M", {})
    say(f"  invariants: accounts created once per email: {not duplicates}; slots held at the end: {len(holders)}")

    problems = []
    if succeeded != BURST:
        problems.append(f"{BURST - succeeded} failed")
    if behaviour.peak_in_progress > SLOTS:
        problems.append(f"peak {behaviour.peak_in_progress} > N={SLOTS}")
    if ratio > RATIO_GOAL:
        problems.append(f"ratio {ratio:.2f} > {RATIO_GOAL}")
    if duplicates or holders:
        problems.append("invariant broken")
    verdict = "OK" if not problems else "MISSED: " + "; ".join(problems)
    say(
        f"SUMMARY: burst {succeeded}/{BURST} succeeded in {total:.1f} s vs floor {floor:.0f} s "
        f"(ratio {ratio:.2f}, goal <= {RATIO_GOAL}), peak {behaviour.peak_in_progress}/{SLOTS} in progress, "
        f"{retries} retries, {behaviour.rate_limited} rate-limited, {slot_waits} slot waits, "
        f"D={LATENCY:g} s, poll {poll} s: {verdict}"
    )
    runtime.stop()
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
