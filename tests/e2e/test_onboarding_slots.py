"""Waiting for a creation slot on the real ASL: the workflow reads the semaphore itself (DynamoDB GetItem).

Every slot is taken by holders this test writes with orgvend's own Semaphore; the
onboarding must then wait without invoking CreateAccount at each poll, and take a
slot as soon as one is released, or as soon as a lease runs out (an aborted
execution's slot is freed by time).
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from orgvend.semaphore import Semaphore, creation_slots

from .conftest import Harness, request_for

pytestmark = pytest.mark.e2e


def entered(history: list[dict[str, Any]], state: str) -> int:
    return sum(1 for event in history if event.get("stateEnteredEventDetails", {}).get("name") == state)


@pytest.fixture
def slots(embedded: Harness) -> Iterator[Semaphore]:
    semaphore = creation_slots(embedded.client("dynamodb"), embedded.outputs["RegistryTableName"])
    yield semaphore
    for holder in semaphore.holders():
        if holder.startswith("e2e-other-"):
            semaphore.release(holder)


def fill(embedded: Harness, slots: Semaphore, lease: timedelta) -> list[str]:
    assert embedded.runtime.template is not None
    limit = int(embedded.runtime.template.parameters["MaxCreationsInProgress"])
    others = [f"e2e-other-{index}" for index in range(limit - len(slots.holders()))]
    for other in others:
        assert slots.acquire(other, limit, lease)
    return others


def wait_for_looks(embedded: Harness, execution_arn: str, looks: int) -> list[dict[str, Any]]:
    return embedded.eventually(
        lambda: (
            (history := embedded.history(execution_arn))
            and entered(history, "LookForCreationSlot") >= looks
            and history
        ),
        timeout=30,
        what=f"{looks} LookForCreationSlot entries",
    )


def test_a_waiting_onboarding_reads_the_semaphore_until_a_slot_is_released(
    embedded: Harness, unique: str, slots: Semaphore
) -> None:
    others = fill(embedded, slots, timedelta(hours=1))
    invocations = embedded.invocations("CreateAccountFunction")
    execution_arn = embedded.start(request_for(unique))

    history = wait_for_looks(embedded, execution_arn, 3)
    # Three polls and more, one CreateAccount: the first attempt, which answered WAITING_FOR_SLOT.
    assert entered(history, "CreateAccount") == 1
    assert entered(history, "IsCreationSlotFree") >= 2
    assert embedded.invocations("CreateAccountFunction") == invocations + 1
    assert not any(event["type"] == "TaskFailed" for event in history)

    slots.release(others[0])
    execution = embedded.wait(execution_arn)

    assert execution["status"] == "SUCCEEDED", execution
    history = embedded.history(execution_arn)
    assert entered(history, "CreateAccount") == 2
    assert embedded.invocations("CreateAccountFunction") == invocations + 2
    assert set(slots.holders()) == set(others[1:])  # this onboarding's slot was released after the creation


def test_a_waiting_onboarding_takes_the_slot_of_an_expired_lease(
    embedded: Harness, unique: str, slots: Semaphore
) -> None:
    # Holders that never release (aborted executions): their leases end in a few seconds.
    others = fill(embedded, slots, timedelta(seconds=4))
    execution_arn = embedded.start(request_for(unique))

    execution = embedded.wait(execution_arn, timeout=60)

    assert execution["status"] == "SUCCEEDED", execution
    history = embedded.history(execution_arn)
    assert entered(history, "LookForCreationSlot") >= 2  # waited while the leases were live
    assert entered(history, "CreateAccount") == 2  # the first attempt, and the one after the leases ended
    # The expired holders were dropped from the item by CreateAccount, not merely ignored.
    item = embedded.registry_item(slots.key["pk"]["S"], slots.key["sk"]["S"]) or {}
    assert not set(others) & set(item.get("holders", {}))
