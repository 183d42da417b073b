"""orgvend's own overhead on one onboarding: POST /accounts to registry ACTIVE, minus the creation latency D.

Run: .venv/bin/python bench/bench_overhead.py   (env BENCH_LATENCY: D in seconds, default 5)

Measured on the embedded AWS at local settings (samconfig.toml [local]: PollIntervalSeconds=1):
the first onboarding of the process (every handler imported on its first call: a cold start)
and a second, warm one. Goal (warm): overhead <= one poll interval + 1 s.

Then the same for production poll settings (PollIntervalSeconds=30, the template default),
derived from the warm run's state transitions rather than measured (a 30 s poll would only
sleep). The model, from the execution history:

    POST -> ACTIVE = api + steps + W x P + W x check
      api    POST to ExecutionStarted (the API function's StartExecution)
      steps  every state but the poll loop, up to RegisterAccount's exit (the registry entry is
             then ACTIVE): Configure, RecordRequest, CreateAccount, PlaceAccount, ApplyBaseline,
             RegisterAccount, and the Choice states' transitions
      W      visits of WaitForAccountCreation (each P seconds long), and as many
             CheckAccountCreation polls (``check`` = one poll's mean duration)
    The creation is requested inside CreateAccount and finishes D later: the W-th poll is the
    first one at least D after it: W is the smallest W >= 1 with W x (P + check) >= D, and the
    overhead is W x (P + check) - D + api + steps: the poll interval's granularity (between 0 and
    P + check) plus a fixed part. With P = 30: W = max(1, ceil(D / 30)).
"""

import math
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from benchkit import execution_arn, history, history_figures, moto_gaps, post_onboardings, say, start_embedded

LATENCY = float(os.environ.get("BENCH_LATENCY", "5"))
PRODUCTION_POLL = 30  # template.yaml's PollIntervalSeconds default
SLACK = 1.0  # the goal: overhead <= one poll interval + 1 s


def onboard_until_active(runtime: Any, unique: str) -> dict[str, Any]:
    """POST one onboarding and poll the registry until its account is ACTIVE."""
    dynamodb = runtime.client("dynamodb")
    table = runtime.deployment.outputs["RegistryTableName"]

    def item(pk: str, sk: str) -> dict[str, Any]:
        return dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item", {})

    request = {"client": f"c{unique}", "project": "web", "email": f"aws+{unique}@example.com"}
    posted_at = datetime.now(UTC)
    began = time.perf_counter()
    [(status, body, _)] = post_onboardings(runtime.deployment.outputs["ApiUrl"], [request])
    assert status == 202, body
    onboarding_id = body["onboardingId"]
    arn = execution_arn(runtime, onboarding_id)
    sfn = runtime.client("stepfunctions")
    deadline, polls = time.monotonic() + 120, 0
    while time.monotonic() < deadline:
        polls += 1
        if polls % 25 == 0:  # now and then: has the execution failed?
            execution = sfn.describe_execution(executionArn=arn)
            if execution["status"] not in {"RUNNING", "SUCCEEDED"}:
                raise RuntimeError(f"onboarding {execution['status']}: {execution.get('cause', '')[:300]}")
        account_id = item(f"ONBOARDING#{onboarding_id}", "ONBOARDING").get("accountId", {}).get("S")
        if account_id and item(f"ACCOUNT#{account_id}", "ACCOUNT").get("status", {}).get("S") == "ACTIVE":
            break
        time.sleep(0.01)
    else:
        raise TimeoutError(f"onboarding {onboarding_id} not ACTIVE within 120 s")
    active = time.perf_counter() - began
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        time.sleep(0.05)
    return {"posted_at": posted_at, "active": active, "events": history(runtime, arn)}


def decompose(run: dict[str, Any], poll: float) -> dict[str, float]:
    """The model's terms, from the run's history (times in seconds)."""
    events = run["events"]
    figures = history_figures(events)
    started = events[0]["timestamp"]
    registered = next(
        e["timestamp"]
        for e in events
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "RegisterAccount"
    )
    entered: dict[str, datetime] = {}
    checks: list[float] = []
    for event in events:
        name = (event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}).get(
            "name"
        )
        if event["type"] == "TaskStateEntered":
            entered[name] = event["timestamp"]
        if event["type"] == "TaskStateExited" and name == "CheckAccountCreation":
            checks.append((event["timestamp"] - entered[name]).total_seconds())
    waits = figures.entered["WaitForAccountCreation"]
    api = (started - run["posted_at"]).total_seconds()
    in_execution = (registered - started).total_seconds()
    loop = figures.wait_seconds + sum(checks)
    return {
        "api": api,
        "steps": in_execution - loop,
        "waits": waits,
        "wait_seconds": figures.wait_seconds,
        "check": sum(checks) / len(checks) if checks else 0.0,
        "loop": loop,
        "poll": poll,
    }


def main() -> int:
    runtime = start_embedded(LATENCY)
    assert runtime.template is not None
    poll = float(runtime.template.parameters["PollIntervalSeconds"])
    say(f"one onboarding, creation latency D = {LATENCY:g} s, local PollIntervalSeconds = {poll:g} s")
    say(f"goal: POST -> registry ACTIVE minus D <= P + {SLACK:g} s = {poll + SLACK:g} s (warm)\n")

    try:
        runs = {"cold": onboard_until_active(runtime, "cold"), "warm": onboard_until_active(runtime, "warm")}
    except (RuntimeError, TimeoutError) as error:
        say(f"SUMMARY: overhead FAILED: {error}")
        runtime.stop()
        return 1
    terms = {}
    say(
        f"{'run':<6}{'POST->ACTIVE':>13}{'overhead':>10}{'api':>7}{'steps':>7}{'waits':>7}{'wait s':>8}{'check':>8}"
    )
    for label, run in runs.items():
        terms[label] = decompose(run, poll)
        t = terms[label]
        say(
            f"{label:<6}{run['active']:>12.2f}s{run['active'] - LATENCY:>9.2f}s{t['api']:>6.2f}s{t['steps']:>6.2f}s"
            f"{t['waits']:>7}{t['wait_seconds']:>7.2f}s{t['check'] * 1000:>6.0f}ms"
        )
    warm, warm_terms = runs["warm"], terms["warm"]
    overhead = warm["active"] - LATENCY
    granularity = warm_terms["loop"] - LATENCY
    fixed = warm_terms["api"] + warm_terms["steps"]
    say(
        f"\nwarm overhead {overhead:.2f} s = poll granularity {granularity:+.2f} s "
        f"({warm_terms['waits']} waits x {poll:g} s + {warm_terms['waits']} polls x {warm_terms['check'] * 1000:.0f} ms - D) "
        f"+ fixed {fixed:.2f} s (api {warm_terms['api']:.2f} s + steps {warm_terms['steps']:.2f} s) "
        f"+ {overhead - granularity - fixed:+.2f} s rest (the registry poll, timestamps' rounding)"
    )
    say(
        f"cold overhead {runs['cold']['active'] - LATENCY:.2f} s (handler imports on first invocation, see bench_cold_start)"
    )

    # Production poll settings, from the warm run's terms.
    waits = max(1, math.ceil(LATENCY / PRODUCTION_POLL))
    loop = waits * (PRODUCTION_POLL + warm_terms["check"])
    production = loop - LATENCY + fixed
    worst = PRODUCTION_POLL + warm_terms["check"] + fixed  # D just past a multiple of P
    say(
        f"\nproduction (PollIntervalSeconds={PRODUCTION_POLL}), same D = {LATENCY:g} s: {waits} wait(s) x "
        f"{PRODUCTION_POLL} s + {waits} poll(s): POST -> ACTIVE {loop + fixed:.1f} s, overhead {production:.1f} s "
        f"(goal <= {PRODUCTION_POLL + SLACK:g} s: {'met' if production <= PRODUCTION_POLL + SLACK else 'missed'})"
    )
    say(
        f"  for any D the overhead is ceil(D/{PRODUCTION_POLL}) x {PRODUCTION_POLL} - D + {fixed + warm_terms['check']:.2f} s: "
        f"between {fixed + warm_terms['check']:.2f} s and {worst:.2f} s (worst when D is just past a multiple of "
        f"{PRODUCTION_POLL} s), {PRODUCTION_POLL / 2 + fixed + warm_terms['check']:.1f} s on average"
    )
    for real_d in (45, 100, 200):
        w = max(1, math.ceil(real_d / PRODUCTION_POLL))
        say(
            f"  D = {real_d:>3} s: {w} waits, overhead {w * (PRODUCTION_POLL + warm_terms['check']) - real_d + fixed:5.1f} s, "
            f"{3 * w} poll-loop transitions"
        )

    say(moto_gaps())
    goal = poll + SLACK
    verdict = "OK" if overhead <= goal else "MISSED"
    say(
        f"SUMMARY: overhead (POST -> ACTIVE - D) {overhead:.2f} s warm, {runs['cold']['active'] - LATENCY:.2f} s cold "
        f"at P={poll:g} s (goal <= {goal:g} s: {verdict}); production P={PRODUCTION_POLL} s model: "
        f"{production:.1f} s at D={LATENCY:g} s, worst {worst:.1f} s"
    )
    runtime.stop()
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
