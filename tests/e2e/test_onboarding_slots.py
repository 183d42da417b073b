"""Waiting for a creation slot on the real ASL: a line of task tokens, woken by releases.

Every slot is taken by holders this test writes with orgvend's own Semaphore; the
onboarding must then wait in line (one ``.waitForTaskToken`` task, no CreateAccount
and no read while it waits), take a slot as soon as one is released (the release
wakes it), and still take one when nobody releases: a lease that runs out (an
aborted execution's slot) is found when the wait times out.
"""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend.semaphore import Semaphore, creation_slots

from .conftest import Harness, OrgvendCalls, request_for
from .events import create_account_result
from .test_onboarding import entered_states

pytestmark = pytest.mark.e2e


def entered(history: list[dict[str, Any]], state: str) -> int:
    return sum(1 for event in history if event.get("stateEnteredEventDetails", {}).get("name") == state)


def entered_at(history: list[dict[str, Any]], state: str) -> list[Any]:
    return [
        event["timestamp"]
        for event in history
        if event.get("stateEnteredEventDetails", {}).get("name") == state
    ]


def failures(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed function calls and tasks (a wait that timed out is not one: that is how it stops)."""
    return [event for event in history if event["type"] in {"LambdaFunctionFailed", "TaskFailed"}]


def tokens_given(history: list[dict[str, Any]]) -> list[str]:
    """The task tokens WaitForCreationSlot handed to its function."""
    return [
        json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["taskToken"]
        for event in history
        if event["type"] == "TaskScheduled"
        and event["taskScheduledEventDetails"]["resource"].endswith("waitForTaskToken")
    ]


@pytest.fixture
def slots(embedded: Harness) -> Iterator[Semaphore]:
    """The creation semaphore, able to wake waiters (as the functions' own is)."""
    semaphore = creation_slots(
        embedded.client("dynamodb"), embedded.outputs["RegistryTableName"], embedded.client("stepfunctions")
    )
    yield semaphore
    for holder in semaphore.holders():
        if holder.startswith("e2e-other-"):
            semaphore.release(holder)


def max_in_progress(embedded: Harness) -> int:
    assert embedded.runtime.template is not None
    return int(embedded.runtime.template.parameters["MaxCreationsInProgress"])


def fill(embedded: Harness, slots: Semaphore, lease: timedelta) -> list[str]:
    limit = max_in_progress(embedded)
    others = [f"e2e-other-{index}" for index in range(limit - len(slots.holders()))]
    for other in others:
        assert slots.acquire(other, limit, lease)
    return others


def recheck_seconds(embedded: Harness) -> int:
    assert embedded.runtime.template is not None
    return int(embedded.runtime.template.parameters["SlotRecheckSeconds"])


def wait_in_line(embedded: Harness, slots: Semaphore, execution_arn: str) -> None:
    onboarding_id = execution_arn.rsplit(":", 1)[-1]
    embedded.eventually(lambda: onboarding_id in slots.waiting(), timeout=30, what=f"{onboarding_id} in line")


def two_in_line(embedded: Harness, slots: Semaphore, unique: str) -> tuple[str, str]:
    """Two onboardings started one after the other, both waiting in line (in that order)."""
    arns = []
    for suffix in "ab":
        arns.append(embedded.start(request_for(f"{unique}{suffix}")))
        wait_in_line(embedded, slots, arns[-1])
    return arns[0], arns[1]


def test_a_waiting_onboarding_sleeps_in_line_until_a_release_wakes_it(
    embedded: Harness, unique: str, slots: Semaphore
) -> None:
    others = fill(embedded, slots, timedelta(hours=1))
    invocations = embedded.invocations("CreateAccountFunction")
    execution_arn = embedded.start(request_for(unique))
    onboarding_id = execution_arn.rsplit(":", 1)[-1]

    wait_in_line(embedded, slots, execution_arn)
    time.sleep(2)  # asleep: no CreateAccount, no read of the semaphore
    history = embedded.history(execution_arn)
    assert entered(history, "CreateAccount") == 1  # the first attempt, which answered WAITING_FOR_SLOT
    assert entered(history, "WaitForCreationSlot") == 1
    assert entered(history, "LookForCreationSlot") == 0
    assert embedded.invocations("CreateAccountFunction") == invocations + 1

    released = datetime.now(UTC)
    slots.release(others[0])
    execution = embedded.wait(execution_arn)

    assert execution["status"] == "SUCCEEDED", execution
    history = embedded.history(execution_arn)
    # Woken by the release, long before the wait would have timed out.
    (second_attempt,) = entered_at(history, "CreateAccount")[1:]
    assert (second_attempt - released).total_seconds() < recheck_seconds(embedded)
    assert entered(history, "WaitForCreationSlot") == 1
    assert entered(history, "LookForCreationSlot") == 0
    assert embedded.invocations("CreateAccountFunction") == invocations + 2
    assert onboarding_id not in slots.waiting()
    assert set(slots.holders()) == set(others[1:])  # this onboarding's slot was released after the creation
    assert not failures(history)

    # Its token was good for one answer: now it is the token of a task that ended, as in AWS.
    (token,) = tokens_given(history)
    with pytest.raises(ClientError) as refused:
        embedded.client("stepfunctions").send_task_success(taskToken=token, output="{}")
    assert refused.value.response["Error"]["Code"] == "TaskTimedOut"


def test_the_line_is_first_come_first_served(embedded: Harness, unique: str, slots: Semaphore) -> None:
    others = fill(embedded, slots, timedelta(hours=1))
    first, second = two_in_line(embedded, slots, unique)

    slots.release(others[0])  # one slot: the first in line takes it

    assert embedded.wait(first)["status"] == "SUCCEEDED"
    # The first one's own release, after its creation, woke the second.
    assert embedded.wait(second)["status"] == "SUCCEEDED"
    first_taken = entered_at(embedded.history(first), "CreateAccount")[-1]
    second_taken = entered_at(embedded.history(second), "CreateAccount")[-1]
    assert first_taken < second_taken
    assert entered(embedded.history(second), "LookForCreationSlot") == 0


def test_a_waiting_onboarding_takes_the_slot_of_an_expired_lease(
    embedded: Harness, unique: str, slots: Semaphore
) -> None:
    # Holders that never release (aborted executions whose report was lost): leases end in a few seconds.
    others = fill(embedded, slots, timedelta(seconds=4))
    execution_arn = embedded.start(request_for(unique))

    execution = embedded.wait(execution_arn, timeout=60)

    assert execution["status"] == "SUCCEEDED", execution
    history = embedded.history(execution_arn)
    # Nobody woke it: the wait timed out, the onboarding read the semaphore and found the leases over.
    assert entered(history, "LookForCreationSlot") >= 1
    assert entered(history, "CreateAccount") == 2  # the first attempt, and the one after the leases ended
    # The expired holders were dropped from the item by CreateAccount, not merely ignored.
    item = embedded.registry_item(slots.key["pk"]["S"], slots.key["sk"]["S"]) or {}
    assert not set(others) & set(item.get("holders", {}))
    # Dropping them woke the line: the onboarding's own entry, whose task had timed out, was skipped.
    assert not failures(history)
    assert slots.waiting() == []


def test_a_token_that_no_longer_waits_is_skipped(embedded: Harness, unique: str, slots: Semaphore) -> None:
    """A line entry whose workflow stopped waiting (aborted) wakes nobody: the next in line is woken."""
    others = fill(embedded, slots, timedelta(hours=1))
    gone, waiting = two_in_line(embedded, slots, unique)
    embedded.client("stepfunctions").stop_execution(executionArn=gone)
    # Its report releases nothing it held and may wake the line itself; either way one slot frees one waiter.
    slots.release(others[0])

    assert embedded.wait(waiting)["status"] == "SUCCEEDED"
    assert entered(embedded.history(waiting), "LookForCreationSlot") == 0
    assert slots.waiting() == []


def logged_reactions(embedded: Harness, logical_id: str) -> list[dict[str, Any]]:
    """What an event target logged as its reaction ("... handled" lines, in CloudWatch Logs)."""
    pages = embedded.client("logs").get_paginator("filter_log_events")
    group = f"/aws/lambda/{embedded.function_name(logical_id)}"
    lines = [event["message"] for page in pages.paginate(logGroupName=group) for event in page["events"]]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [record for record in records if str(record.get("message", "")).endswith("event handled")]


def create_request_of(embedded: Harness, execution_arn: str) -> str:
    onboarding_id = execution_arn.rsplit(":", 1)[-1]
    return str(
        embedded.eventually(
            lambda: (embedded.onboarding_item(onboarding_id) or {}).get("createRequestId"),
            what=f"{onboarding_id}'s CreateAccount request",
        )
    )


@pytest.mark.parametrize("ended", ["SUCCEEDED", "FAILED"])
def test_an_own_creations_result_event_frees_its_slot_for_the_line_at_once(
    embedded: Harness, unique: str, slots: Semaphore, ended: str
) -> None:
    """Organizations' CreateAccountResult frees the slot without waiting for the holder's next poll,
    however the creation ended (a failed one is no longer in progress either)."""
    behaviour = embedded.runtime.organizations_behaviour
    fill(embedded, slots, timedelta(hours=1))
    last = slots.holders()
    slots.release(sorted(last)[0])  # one slot free: the holder below takes it
    holder_request = request_for(f"{unique}a")
    # In progress until finished (the last state of a script is the one ``finish`` jumps to).
    behaviour.script_creation(holder_request["email"], ["IN_PROGRESS"] * 10_000 + [ended])
    holder = embedded.start(holder_request)
    request_id = create_request_of(embedded, holder)
    waiter = embedded.start(request_for(f"{unique}b"))
    wait_in_line(embedded, slots, waiter)

    # Organizations says on EventBridge that the creation ended; the holder's polls still read
    # IN_PROGRESS (the API is eventually consistent), so only the event can have freed the slot.
    embedded.put_event(create_account_result(request_id, "000000000000", state=ended))
    embedded.eventually(
        lambda: entered(embedded.history(waiter), "CreateAccount") == 2,
        what="the waiter woken with the freed slot",
    )
    assert embedded.client("stepfunctions").describe_execution(executionArn=holder)["status"] == "RUNNING"
    behaviour.finish(request_id)

    assert embedded.wait(waiter)["status"] == "SUCCEEDED"
    # The holder goes on by its own polls, whatever they read; the slot was freed by the event already.
    assert embedded.wait(holder)["status"] in {"SUCCEEDED", "FAILED"}
    assert not failures(embedded.history(waiter))
    assert entered(embedded.history(waiter), "LookForCreationSlot") == 0  # woken, not timed out
    ours = {holder.rsplit(":", 1)[-1], waiter.rsplit(":", 1)[-1]}
    assert not ours & set(slots.holders())


def test_with_a_trail_logging_every_creation_announces_its_end(
    embedded: Harness, unique: str, slots: Semaphore
) -> None:
    """Parity: Organizations puts CreateAccountResult on EventBridge (through CloudTrail) when a
    creation ends; FollowOrganization then frees the slot of orgvend's own creation."""
    s3, cloudtrail = embedded.client("s3"), embedded.client("cloudtrail")
    bucket, trail = f"trail-{unique}", f"trail-{unique}"
    s3.create_bucket(Bucket=bucket)
    cloudtrail.create_trail(Name=trail, S3BucketName=bucket, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name=trail)
    before = embedded.invocations("FollowOrganizationFunction")
    try:
        execution = embedded.wait(embedded.start(request_for(unique)))
        embedded.eventually(
            lambda: embedded.invocations("FollowOrganizationFunction") > before,
            what="FollowOrganization invoked for the CreateAccountResult",
        )
    finally:
        cloudtrail.delete_trail(Name=trail)

    assert execution["status"] == "SUCCEEDED", execution
    account_id = json.loads(execution["output"])["account"]["accountId"]
    reactions = logged_reactions(embedded, "FollowOrganizationFunction")
    assert any(
        reaction["eventName"] == "CreateAccountResult"
        and reaction["action"] == "own-creation"
        and reaction.get("accountId") == account_id
        for reaction in reactions
    ), reactions


# Moved from the unit tests' in-process ASL interpreter: a wait that times out, on the real state machine.


def joined_line(history: list[dict[str, Any]]) -> int:
    """How often WaitForCreationSlot's function has put the onboarding in line (its invocation returned)."""
    return sum(1 for event in history if event["type"] == "TaskSubmitted")


def back_in_line(embedded: Harness, execution_arn: str, times: int) -> None:
    """Wait until the onboarding has joined the line ``times`` times (each wait lasts up to
    SlotRecheckSeconds plus MaxCreationsInProgress seconds before it times out)."""
    ceiling = recheck_seconds(embedded) + max_in_progress(embedded)
    embedded.eventually(
        lambda: joined_line(embedded.history(execution_arn)) >= times,
        timeout=times * ceiling + 30,
        what=f"in line {times} times",
    )


def creations_asked_for(calls: OrgvendCalls, email: str) -> int:
    return sum(1 for params in calls.of("CreateAccount") if params["Email"] == email)


def test_a_wait_that_times_out_reads_the_semaphore_and_waits_in_line_again_until_a_release_wakes_it(
    embedded: Harness, unique: str, slots: Semaphore, orgvend_calls: OrgvendCalls
) -> None:
    """Every slot taken: CreateAccount asks nothing of Organizations and the workflow waits in line with
    its task token. Nobody releases during the first wait: it times out, reads the semaphore's item itself
    (no Lambda), and joins the line again; during the second wait a release wakes it."""
    others = fill(embedded, slots, timedelta(hours=1))
    request = request_for(unique)
    execution_arn = embedded.start(request)
    onboarding_id = execution_arn.rsplit(":", 1)[-1]

    for wait in (1, 2):
        back_in_line(embedded, execution_arn, wait)
        assert creations_asked_for(orgvend_calls, request["email"]) == 0
        assert slots.waiting() == [onboarding_id]
    slots.release(others[0])  # another onboarding finishes while this one waits
    execution = embedded.wait(execution_arn)

    assert execution["status"] == "SUCCEEDED", execution
    history = embedded.history(execution_arn)
    visited = entered_states(history)
    start = visited.index("CreateAccount")
    assert visited[start : start + 13] == [
        "CreateAccount",
        "HasCreationSlot",
        "SpreadSlotCheck",
        "WaitForCreationSlot",  # no wake-up: timed out
        "LookForCreationSlot",
        "IsCreationSlotFree",  # every lease is live: back in line, no CreateAccount invocation
        "SpreadSlotCheck",
        "WaitForCreationSlot",  # woken by the release
        "CreateAccount",
        "HasCreationSlot",
        "WaitForAccountCreation",
        "CheckAccountCreation",
        "IsAccountCreated",
    ]
    waiting_with = [
        json.loads(event["stateEnteredEventDetails"]["input"])["creation"]
        for event in history
        if event.get("stateEnteredEventDetails", {}).get("name") == "WaitForCreationSlot"
    ]
    assert waiting_with == [{"state": "WAITING_FOR_SLOT", "polls": 0, "recovered": False}] * 2
    assert json.loads(execution["output"])["slotWait"] == {"woken": True}
    assert visited[-1] == "Onboarded"
    assert creations_asked_for(orgvend_calls, request["email"]) == 1
    # The creation succeeded: its slot is free again; the others still hold theirs; nobody is in line.
    assert sorted(slots.holders()) == sorted(others[1:])
    assert slots.waiting() == []


def test_a_waiting_onboarding_takes_a_slot_whose_lease_ran_out_while_it_waited_without_any_release(
    embedded: Harness, unique: str, slots: Semaphore, orgvend_calls: OrgvendCalls
) -> None:
    """Holders that vanished (aborted executions, their reports lost) free their slots by time, and nobody
    wakes the line: the wait times out, the workflow's own check sees the earliest lease over and sends it
    to CreateAccount, which drops the expired holders."""
    lease = timedelta(hours=1)
    others = fill(embedded, slots, lease)
    limit = max_in_progress(embedded)
    # Releases through this one wake nobody: it has no Step Functions client.
    silent = creation_slots(embedded.client("dynamodb"), embedded.outputs["RegistryTableName"])
    request = request_for(unique)
    execution_arn = embedded.start(request)

    # The first check saw every lease live: the onboarding is in line again. Now the item is what it would
    # be had the same holders taken their slots two hours ago and vanished: every lease is over.
    back_in_line(embedded, execution_arn, 2)
    long_ago = datetime.now(UTC) - 2 * lease
    for other in others:
        silent.release(other)
    for other in others:
        assert silent.acquire(other, limit, lease, long_ago)
    assert silent.holders() == {}
    execution = embedded.wait(execution_arn, timeout=recheck_seconds(embedded) + limit + 60)

    assert execution["status"] == "SUCCEEDED", execution
    history = embedded.history(execution_arn)
    visited = entered_states(history)
    assert visited[-1] == "Onboarded"
    assert visited.count("WaitForCreationSlot") == 2
    assert visited.count("LookForCreationSlot") == 2
    assert visited.count("CreateAccount") == 2  # the first attempt, and the one after the leases ran out
    assert creations_asked_for(orgvend_calls, request["email"]) == 1
    # The expired holders were dropped from the item, not merely ignored.
    assert set(slots.holders(datetime.now(UTC) - 3 * lease)) == set()
    # Dropping them handed free slots to the line, where only this onboarding's own entry was, left when
    # its wait timed out: it holds a slot now, so the entry went and nobody was woken.
    assert [refusal for refusal in orgvend_calls.refused if refusal[0] == "SendTaskSuccess"] == []
    assert not failures(history)
    assert slots.waiting() == []
    assert list(slots.holders()) == []  # and its slot was released after the creation, not before
