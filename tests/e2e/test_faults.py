"""A burst under faults: nothing lost, nothing twice, every slot free, every failure redrivable.

12 onboardings posted at once through the API with at most 3 creations in
progress (the stack's MaxCreationsInProgress and the embedded Organizations'
quota), creation latency, one out-of-band creation holding a quota slot
(so Organizations answers ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED), throttling of
every call type of Organizations, STS, IAM, DynamoDB, SNS and EventBridge,
AccessDenied on assume-role for the first seconds, a Lambda step that crashes
once, and one onboarding that fails for good until its fault is cleared.
"""

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest
import urllib3

from orgvend.semaphore import ACCOUNT_CREATION

from .conftest import FaultInjector, Harness

pytestmark = pytest.mark.e2e
BURST, SLOTS, LATENCY_SECONDS, DENIED_SECONDS = 12, 3, 4.0, 3.0
THROTTLED_SERVICES = ("organizations", "sts", "iam", "dynamodb", "sns", "events")


def post_burst(embedded: Harness, requests: list[dict[str, Any]]) -> list[str]:
    http = urllib3.PoolManager(maxsize=len(requests), retries=False, timeout=60)
    answers: list[tuple[int, dict[str, Any]]] = [(0, {})] * len(requests)

    def post(index: int, request: dict[str, Any]) -> None:
        response = http.request(
            "POST",
            embedded.outputs["ApiUrl"] + "/accounts",
            body=json.dumps(request),
            headers={"content-type": "application/json", "Idempotency-Key": request["email"]},
        )
        answers[index] = (response.status, json.loads(response.data))

    threads = [threading.Thread(target=post, args=pair) for pair in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [202] * len(requests), answers
    return [body["onboardingId"] for _, body in answers]  # in the order of the requests


def set_function_variable(embedded: Harness, logical_id: str, name: str, value: str) -> str:
    """Change a deployed function's environment through Lambda's API; returns the old value."""
    lambda_client = embedded.client("lambda")
    function = embedded.function_name(logical_id)
    variables = lambda_client.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    old = variables.get(name, "")
    lambda_client.update_function_configuration(
        FunctionName=function, Environment={"Variables": {**variables, name: value}}
    )
    return old


def test_a_burst_under_every_fault_loses_nothing_and_creates_nothing_twice(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    behaviour = embedded.runtime.organizations_behaviour
    saved = (behaviour.creation_seconds, behaviour.max_in_progress)
    old_limit = set_function_variable(
        embedded, "CreateAccountFunction", "MAX_CREATIONS_IN_PROGRESS", str(SLOTS)
    )
    requests = [
        {"client": f"b{unique}", "project": f"p{index}", "email": f"aws+{unique}-{index}@example.com"}
        for index in range(BURST - 1)
    ]
    # The last request fails at PlaceAccount (its client's OU cannot be created) until the fault is cleared.
    doomed_client = f"d{unique}"
    requests.append({"client": doomed_client, "project": "p", "email": f"aws+{unique}-doomed@example.com"})
    try:
        behaviour.creation_seconds, behaviour.max_in_progress = LATENCY_SECONDS, SLOTS
        behaviour.peak_in_progress = behaviour.rate_limited = 0
        # An account created outside orgvend holds one of the quota's slots during the whole burst:
        # orgvend's third creation at a time meets ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED.
        outside = f"aws+{unique}-outside@example.com"
        behaviour.script_creation(outside, ["IN_PROGRESS"] * 10_000 + ["SUCCEEDED"])
        organizations = embedded.client("organizations")
        outside_request = organizations.create_account(Email=outside, AccountName="outside")[
            "CreateAccountStatus"
        ]["Id"]
        throttled = faults.throttle_each_operation_once(THROTTLED_SERVICES)
        denied = faults.deny_for(
            "before-call.sts.AssumeRole",
            "AccessDenied",
            DENIED_SECONDS,
            key=lambda params: str(params.get("RoleArn")),
            when=lambda params: params.get("RoleSessionName") == "orgvend-baseline",
        )
        crashed = faults.crash_once("before-call.dynamodb.TransactWriteItems")
        faults.fail(
            "before-call.organizations.CreateOrganizationalUnit",
            "AccessDeniedException",
            times=100,
            when=lambda params: params.get("Name") == doomed_client,
        )
        started = time.monotonic()
        ids = post_burst(embedded, requests)
        doomed_id = ids[-1]
        executions = {
            onboarding_id: embedded.wait(
                embedded.client("stepfunctions").describe_execution(
                    executionArn=f"{embedded.outputs['OnboardAccountStateMachineArn'].replace(':stateMachine:', ':execution:')}:{onboarding_id}"
                )["executionArn"],
                timeout=180,
            )
            for onboarding_id in ids
        }
        elapsed = time.monotonic() - started

        statuses = Counter(execution["status"] for execution in executions.values())
        assert statuses == {"SUCCEEDED": BURST - 1, "FAILED": 1}, statuses
        assert executions[doomed_id]["status"] == "FAILED"

        # Every fault fired.
        assert {key.split(".")[0] for key in throttled} == set(THROTTLED_SERVICES), throttled
        assert len({call["RoleArn"] for call in denied}) >= BURST - 1, "every fresh account denied at first"
        assert crashed == [1]
        behaviour.finish(outside_request)
        assert behaviour.rate_limited >= 1, (behaviour.peak_in_progress, behaviour.seen_in_progress)
        # Never more creations in progress than the quota (orgvend's and the outside one together).
        assert behaviour.peak_in_progress <= SLOTS

        # The failed onboarding is redrivable, and its redrive creates no second account.
        faults.clear()
        embedded.client("stepfunctions").redrive_execution(executionArn=executions[doomed_id]["executionArn"])
        assert embedded.wait(executions[doomed_id]["executionArn"], timeout=60)["status"] == "SUCCEEDED"
    finally:
        behaviour.creation_seconds, behaviour.max_in_progress = saved
        set_function_variable(embedded, "CreateAccountFunction", "MAX_CREATIONS_IN_PROGRESS", old_limit)

    # Invariants: every account Organizations created is registered ACTIVE, once; no request made two.
    paginator = embedded.client("organizations").get_paginator("list_accounts")
    created = Counter(a["Email"] for page in paginator.paginate() for a in page["Accounts"])
    for request in requests:
        assert created[request["email"]] == 1, request["email"]
        guard = embedded.registry_item(f"EMAIL#{request['email']}", "EMAIL")
        item = embedded.account_item(guard["accountId"])
        assert item["status"] == "ACTIVE" and item["email"] == request["email"]
    registered = [
        item
        for client in (f"b{unique}", doomed_client)
        for item in embedded.client("dynamodb").query(
            TableName=embedded.outputs["RegistryTableName"],
            IndexName="ByClient",
            KeyConditionExpression="gsi1pk = :c",
            ExpressionAttributeValues={":c": {"S": f"CLIENT#{client}"}},
        )["Items"]
    ]
    assert len(registered) == BURST
    # Every concurrency slot is free.
    semaphore = embedded.registry_item(f"SEMAPHORE#{ACCOUNT_CREATION}", "SEMAPHORE") or {}
    assert not semaphore.get("holders"), semaphore
    print(f"burst of {BURST} with {SLOTS} slots under faults: {elapsed:.1f} s; throttled {dict(throttled)}")
