"""orgvend.semaphore: a counting semaphore with leases in the registry table (moto's DynamoDB).

Time is passed in (``now``): leases expire without any sleeping. Faults are
injected through botocore's public event hooks on the semaphore's own client.
"""

import threading
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from orgvend.semaphore import (
    ACCOUNT_CREATION,
    GONE_TOKEN_ERRORS,
    MAX_WRITE_ATTEMPTS,
    Semaphore,
    default_creation_slots,
    iso_timestamp,
    task_waker,
)
from orgvend.settings import Settings

from .support import failing, record_calls

T0 = datetime.now(UTC).replace(microsecond=0)  # whole seconds: lease times read back exactly
LEASE = timedelta(minutes=5)


@pytest.fixture
def semaphore(dynamodb, table_name):
    return Semaphore(dynamodb, table_name, "test")


def puts(calls) -> int:
    return len(calls.of("PutItem"))


# --------------------------------------------------------------------------- counting


def test_a_new_semaphore_has_no_holders(semaphore):
    assert semaphore.holders(T0) == {}


def test_acquire_up_to_the_limit_then_refuse(semaphore):
    assert [semaphore.acquire(f"h{index}", 3, LEASE, T0) for index in range(3)] == [True, True, True]

    assert semaphore.acquire("h3", 3, LEASE, T0) is False
    assert semaphore.acquire("h4", 3, LEASE, T0 + timedelta(seconds=1)) is False

    assert semaphore.holders(T0) == {f"h{index}": T0 + LEASE for index in range(3)}


def test_the_same_holder_renews_instead_of_taking_a_second_slot(semaphore):
    assert semaphore.acquire("h0", 2, LEASE, T0)
    later = T0 + timedelta(minutes=1)

    assert semaphore.acquire("h0", 2, LEASE, later)

    assert semaphore.holders(later) == {"h0": later + LEASE}
    assert semaphore.acquire("h1", 2, LEASE, later)  # the second slot is still free


def test_a_holder_renews_even_when_every_slot_is_taken(semaphore):
    assert semaphore.acquire("h0", 2, LEASE, T0)
    assert semaphore.acquire("h1", 2, LEASE, T0)
    later = T0 + timedelta(minutes=2)

    assert semaphore.acquire("h1", 2, LEASE, later)

    assert semaphore.holders(later) == {"h0": T0 + LEASE, "h1": later + LEASE}


def test_release_frees_a_slot(semaphore):
    for holder in ("h0", "h1"):
        assert semaphore.acquire(holder, 2, LEASE, T0)
    assert semaphore.acquire("h2", 2, LEASE, T0) is False

    semaphore.release("h0")

    assert semaphore.holders(T0) == {"h1": T0 + LEASE}
    assert semaphore.acquire("h2", 2, LEASE, T0)


def test_releasing_twice_or_a_stranger_is_harmless_and_writes_nothing(semaphore, dynamodb):
    assert semaphore.acquire("h0", 2, LEASE, T0)
    assert semaphore.acquire("h1", 2, LEASE, T0)
    semaphore.release("h0")
    calls = record_calls(dynamodb)

    semaphore.release("h0")
    semaphore.release("never-held")

    assert puts(calls) == 0
    assert semaphore.holders(T0) == {"h1": T0 + LEASE}


def test_releasing_on_a_semaphore_never_used_is_harmless(semaphore):
    semaphore.release("h0")
    assert semaphore.holders(T0) == {}


# --------------------------------------------------------------------------- leases


def test_an_expired_lease_stops_counting(semaphore):
    for index in range(3):
        assert semaphore.acquire(f"h{index}", 3, LEASE, T0)
    expiry = T0 + LEASE

    assert semaphore.acquire("late", 3, LEASE, expiry - timedelta(seconds=1)) is False
    assert semaphore.holders(expiry) == {}  # a lease is over at its expiry
    assert semaphore.acquire("late", 3, LEASE, expiry)

    assert semaphore.holders(expiry) == {"late": expiry + LEASE}
    # The expired holders were dropped from the item, not merely ignored.
    assert semaphore.holders(T0) == {"late": expiry + LEASE}


def test_holders_are_the_live_ones_at_the_given_moment(semaphore):
    assert semaphore.acquire("short", 3, timedelta(minutes=1), T0)
    assert semaphore.acquire("long", 3, timedelta(hours=1), T0)

    assert set(semaphore.holders(T0)) == {"short", "long"}
    assert set(semaphore.holders(T0 + timedelta(minutes=2))) == {"long"}
    assert semaphore.holders(T0 + timedelta(hours=2)) == {}


def test_an_expired_holder_that_renews_gets_a_slot_only_if_one_is_free(semaphore):
    assert semaphore.acquire("old", 1, LEASE, T0)
    after = T0 + LEASE + timedelta(seconds=1)
    assert semaphore.acquire("new", 1, LEASE, after)

    assert semaphore.acquire("old", 1, LEASE, after) is False


def test_without_now_the_lease_runs_from_the_clock(semaphore):
    before = datetime.now(UTC)
    assert semaphore.acquire("h0", 1, LEASE)
    (until,) = semaphore.holders().values()
    assert before + LEASE - timedelta(seconds=1) <= until <= datetime.now(UTC) + LEASE


# --------------------------------------------------------------------------- freeAt: when a slot may be free


def stored_free_at(semaphore) -> str | None:
    """The item's ``freeAt`` as stored, what LookForCreationSlot reads (None before the first write)."""
    item = semaphore._dynamodb.get_item(TableName=semaphore._table, Key=semaphore.key, ConsistentRead=True)
    return item["Item"]["freeAt"]["S"] if "freeAt" in item.get("Item", {}) else None


def iso(moment: datetime) -> str:
    return iso_timestamp(moment)


def test_timestamps_have_the_shape_of_step_functions_entered_time():
    assert iso_timestamp(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
    assert iso_timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"
    # Rounded up, never down: a slot never looks free before its lease is over.
    assert iso_timestamp(datetime(2026, 1, 2, 3, 4, 5, 678001, tzinfo=UTC)) == "2026-01-02T03:04:05.679Z"
    assert iso_timestamp(datetime(2026, 1, 2, 3, 4, 59, 999999, tzinfo=UTC)) == "2026-01-02T03:05:00.000Z"


def test_string_order_of_the_timestamps_is_time_order():
    moments = [T0 + timedelta(milliseconds=step) for step in (0, 1, 999, 1000, 59_001, 3_600_000, 86_400_000)]
    assert sorted(moments, key=iso) == moments
    assert sorted(iso(moment) for moment in reversed(moments)) == [iso(moment) for moment in moments]


def test_with_a_slot_free_free_at_is_the_moment_of_the_write(semaphore):
    assert stored_free_at(semaphore) is None  # no item yet

    assert semaphore.acquire("h0", 2, LEASE, T0)

    assert stored_free_at(semaphore) == iso(T0)


def test_with_every_slot_taken_free_at_is_the_earliest_lease_expiry(semaphore):
    assert semaphore.acquire("h0", 3, LEASE, T0 + timedelta(seconds=2))
    assert semaphore.acquire("h1", 3, LEASE, T0)
    assert semaphore.acquire("h2", 3, LEASE, T0 + timedelta(seconds=1))

    assert stored_free_at(semaphore) == iso(T0 + LEASE)  # h1's lease ends first


def test_a_renewal_moves_free_at_to_the_next_expiry(semaphore):
    assert semaphore.acquire("h0", 2, LEASE, T0)
    assert semaphore.acquire("h1", 2, LEASE, T0 + timedelta(seconds=10))

    assert semaphore.acquire("h0", 2, LEASE, T0 + timedelta(seconds=20))

    assert stored_free_at(semaphore) == iso(T0 + timedelta(seconds=10) + LEASE)


def test_a_release_makes_free_at_the_moment_of_the_release(semaphore):
    for holder in ("h0", "h1"):
        assert semaphore.acquire(holder, 2, LEASE, T0)
    before = datetime.now(UTC)

    semaphore.release("h0")

    assert iso(before) <= stored_free_at(semaphore) <= iso(datetime.now(UTC))


def test_while_every_lease_is_live_free_at_has_not_come(semaphore):
    """What the state machine relies on: freeAt in the future means no slot can be taken."""
    for index in range(2):
        assert semaphore.acquire(f"h{index}", 2, LEASE, T0 + timedelta(seconds=index))
    free_at = stored_free_at(semaphore)

    for moment in (T0, T0 + LEASE - timedelta(milliseconds=1)):
        assert iso(moment) < free_at
        assert semaphore.acquire("waiter", 2, LEASE, moment) is False
    assert iso(T0 + LEASE) >= free_at
    assert semaphore.acquire("waiter", 2, LEASE, T0 + LEASE)


def test_a_refusal_on_a_correct_item_writes_nothing(semaphore, dynamodb):
    for index in range(2):
        assert semaphore.acquire(f"h{index}", 2, LEASE, T0)
    calls = record_calls(dynamodb)

    assert semaphore.acquire("waiter", 2, LEASE, T0 + timedelta(seconds=1)) is False

    assert puts(calls) == 0


def test_a_refusal_corrects_a_stale_free_at(semaphore, dynamodb, setup_client, table_name):
    # Three holders under a limit of 5: freeAt says "free now". Then the limit becomes 3.
    for index in range(3):
        assert semaphore.acquire(f"h{index}", 5, LEASE, T0)
    assert stored_free_at(semaphore) == iso(T0)
    calls = record_calls(dynamodb)

    assert semaphore.acquire("waiter", 3, LEASE, T0 + timedelta(seconds=1)) is False

    assert puts(calls) == 1  # written once, so that waiting workflows stop asking
    assert stored_free_at(semaphore) == iso(T0 + LEASE)
    assert semaphore.holders(T0) == {f"h{index}": T0 + LEASE for index in range(3)}
    item = setup_client("dynamodb").get_item(TableName=table_name, Key=semaphore.key)["Item"]
    assert item["limit"] == {"N": "3"}


def test_a_refusal_drops_expired_holders_and_corrects_free_at(semaphore):
    assert semaphore.acquire("old", 4, timedelta(minutes=3), T0)
    for index in range(3):
        assert semaphore.acquire(f"h{index}", 4, LEASE, T0 + timedelta(minutes=1))
    assert stored_free_at(semaphore) == iso(T0 + timedelta(minutes=3))  # full: "old" expires first
    later = T0 + timedelta(minutes=4)  # "old" is over; the limit is now 3, which the others fill

    assert semaphore.acquire("waiter", 3, LEASE, later) is False

    assert semaphore.holders(T0) == {f"h{index}": T0 + timedelta(minutes=1) + LEASE for index in range(3)}
    assert stored_free_at(semaphore) == iso(T0 + timedelta(minutes=1) + LEASE)


def test_an_item_written_before_free_at_existed_is_completed_by_the_next_write(
    semaphore, setup_client, table_name
):
    setup_client("dynamodb").put_item(
        TableName=table_name,
        Item={
            **semaphore.key,
            "holders": {"M": {"h0": {"N": str((T0 + LEASE).timestamp())}}},
            "version": {"N": "7"},
        },
    )
    assert stored_free_at(semaphore) is None

    semaphore.release("h0")  # the limit is unknown: a slot may be free from now on

    assert stored_free_at(semaphore) is not None
    assert stored_free_at(semaphore) <= iso(datetime.now(UTC))
    assert semaphore.acquire("h1", 1, LEASE, T0)
    assert stored_free_at(semaphore) == iso(T0 + LEASE)


# --------------------------------------------------------------------------- where it lives


def test_semaphores_of_different_names_are_independent(dynamodb, table_name):
    first, second = Semaphore(dynamodb, table_name, "first"), Semaphore(dynamodb, table_name, "second")
    assert first.acquire("h0", 1, LEASE, T0)
    assert second.acquire("h0", 1, LEASE, T0)
    assert second.acquire("h1", 1, LEASE, T0) is False
    first.release("h0")
    assert set(second.holders(T0)) == {"h0"}


def test_the_creation_slots_live_in_the_registry_table_unseen_by_its_listings(
    slots, registry, table_items, set_function_environment
):
    assert slots.acquire("onb-1", 5, LEASE, T0)

    (item,) = table_items()
    assert item["pk"] == {"S": f"SEMAPHORE#{ACCOUNT_CREATION}"}
    assert registry.list_accounts() == ([], None)
    # The functions' own semaphore (from their environment) is the same one.
    set_function_environment("CreateAccountFunction")
    assert set(default_creation_slots(Settings()).holders(T0)) == {"onb-1"}


# --------------------------------------------------------------------------- optimistic writes


def test_a_write_that_loses_the_race_is_retried(semaphore, dynamodb):
    calls = record_calls(dynamodb)
    dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", failing("ConditionalCheckFailedException", "lost", times=1)
    )

    assert semaphore.acquire("h0", 1, LEASE, T0)

    assert puts(calls) == 2
    assert semaphore.holders(T0) == {"h0": T0 + LEASE}


def competitor_takes_a_slot_first(semaphore_client, table_name, limit):
    """A ``before-call`` hook: another writer takes a slot between our read and our (first) write."""
    competitor = Semaphore(semaphore_client, table_name, "test")
    raced = []

    def hook(**_):
        if not raced:
            raced.append(True)
            assert competitor.acquire("rival", limit, LEASE, T0)

    return hook


def test_a_retried_write_keeps_the_competitors_slot(semaphore, dynamodb, table_name, setup_client):
    calls = record_calls(dynamodb)
    dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", competitor_takes_a_slot_first(setup_client("dynamodb"), table_name, 2)
    )

    assert semaphore.acquire("h0", 2, LEASE, T0)

    assert puts(calls) == 2
    assert semaphore.holders(T0) == {"rival": T0 + LEASE, "h0": T0 + LEASE}


def test_a_retry_counts_again_and_finds_the_last_slot_taken(semaphore, dynamodb, table_name, setup_client):
    calls = record_calls(dynamodb)
    dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", competitor_takes_a_slot_first(setup_client("dynamodb"), table_name, 1)
    )

    assert semaphore.acquire("h0", 1, LEASE, T0) is False

    assert puts(calls) == 1
    assert semaphore.holders(T0) == {"rival": T0 + LEASE}


def test_a_release_that_loses_the_race_is_retried(semaphore, dynamodb):
    assert semaphore.acquire("h0", 2, LEASE, T0)
    assert semaphore.acquire("h1", 2, LEASE, T0)
    calls = record_calls(dynamodb)
    dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", failing("ConditionalCheckFailedException", "lost", times=1)
    )

    semaphore.release("h0")

    assert puts(calls) == 2
    assert semaphore.holders(T0) == {"h1": T0 + LEASE}


def test_acquire_gives_up_quietly_under_endless_contention(semaphore, dynamodb):
    calls = record_calls(dynamodb)
    dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", failing("ConditionalCheckFailedException", "lost")
    )

    assert semaphore.acquire("h0", 1, LEASE, T0) is False  # the caller waits and tries again

    assert puts(calls) == MAX_WRITE_ATTEMPTS


def test_release_fails_loudly_under_endless_contention(semaphore, dynamodb):
    assert semaphore.acquire("h0", 1, LEASE, T0)
    dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", failing("ConditionalCheckFailedException", "lost")
    )

    with pytest.raises(RuntimeError, match="h0"):
        semaphore.release("h0")


def test_other_dynamodb_errors_are_not_taken_for_a_lost_race(semaphore, dynamodb):
    calls = record_calls(dynamodb)
    dynamodb.meta.events.register(
        "before-call.dynamodb.PutItem", failing("AccessDeniedException", "no dynamodb:PutItem")
    )

    with pytest.raises(ClientError, match="AccessDeniedException"):
        semaphore.acquire("h0", 1, LEASE, T0)

    assert puts(calls) == 1


# --------------------------------------------------------------------------- concurrency


class OneRequestAtATime:
    """DynamoDB's atomicity of a single request, which moto lacks under threads.

    moto checks a ConditionExpression and then stores the item with no lock in
    between, so two threads' conditional PutItems on the same version can both
    succeed (a lost update that DynamoDB never allows): without this, about one
    run in fifteen saw four winners for three slots. Holding one lock from
    ``before-call`` to ``after-call`` makes each request atomic, as in DynamoDB,
    while the semaphore's read-then-write still interleaves freely across threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def attach(self, client) -> None:
        client.meta.events.register("before-call.dynamodb", self.enter)
        client.meta.events.register("after-call.dynamodb", self.leave)
        client.meta.events.register("after-call-error.dynamodb", self.leave)

    def enter(self, **_) -> None:
        self._lock.acquire()

    def leave(self, **_) -> None:
        self._lock.release()


class Writes:
    """The holders of every PutItem that DynamoDB accepted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.accepted: list[set[str]] = []

    def attach(self, client) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.PutItem", self.remember)
        client.meta.events.register("after-call.dynamodb.PutItem", self.record)

    def remember(self, params, context, **_) -> None:
        context["semaphore_holders"] = set(params["Item"]["holders"]["M"])

    def record(self, http_response, context, **_) -> None:
        if http_response.status_code == 200:
            with self._lock:
                self.accepted.append(context["semaphore_holders"])


def test_twenty_threads_share_three_slots(moto_aws, table_name):
    threads, limit = 20, 3
    session = boto3.session.Session(region_name="us-east-1")
    atomic, writes = OneRequestAtATime(), Writes()
    clients = []
    for _ in range(threads):  # built here: a boto3 session is not thread-safe, its clients are
        client = session.client("dynamodb")
        atomic.attach(client)
        writes.attach(client)
        clients.append(client)
    start = threading.Barrier(threads)
    results: dict[str, bool | BaseException] = {}

    def contend(index: int) -> None:
        holder = f"onb-{index:02d}"
        start.wait()
        try:
            results[holder] = Semaphore(clients[index], table_name, "race").acquire(holder, limit, LEASE)
        except BaseException as error:
            results[holder] = error

    workers = [threading.Thread(target=contend, args=(index,), daemon=True) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)

    assert len(results) == threads
    assert not [result for result in results.values() if isinstance(result, BaseException)], results
    winners = {holder for holder, won in results.items() if won is True}
    assert len(winners) == limit
    stored = Semaphore(clients[0], table_name, "race").holders()
    assert set(stored) == winners
    assert writes.accepted, "no write reached DynamoDB"
    assert max(len(holders) for holders in writes.accepted) <= limit
    assert len(writes.accepted) == limit  # one accepted write per winner, none lost


# --------------------------------------------------------------------------- the line of waiters


class Workflows:
    """The Step Functions side of the line: which task tokens still wait, and which were woken."""

    def __init__(self) -> None:
        self.waiting: set[str] = set()
        self.woken: list[str] = []

    def wait(self, token: str) -> str:
        self.waiting.add(token)
        return token

    def __call__(self, token: str) -> bool:
        if token not in self.waiting:
            return False  # timed out, ended: SendTaskSuccess would answer TaskTimedOut
        self.waiting.discard(token)
        self.woken.append(token)
        return True


@pytest.fixture
def workflows() -> Workflows:
    return Workflows()


@pytest.fixture
def lined(dynamodb, table_name, workflows) -> Semaphore:
    """A semaphore whose releases wake the line (as the functions' is, through SendTaskSuccess)."""
    return Semaphore(dynamodb, table_name, "test", workflows)


def full(semaphore: Semaphore, limit: int = 2) -> list[str]:
    holders = [f"h{index}" for index in range(limit)]
    for holder in holders:
        assert semaphore.acquire(holder, limit, LEASE)
    return holders


def test_waiters_line_up_by_when_they_asked(lined, workflows):
    full(lined)
    assert lined.join_line("late", "2026-01-02T00:00:02.000Z", workflows.wait("t-late")) is False
    assert lined.join_line("early", "2026-01-02T00:00:01.000Z", workflows.wait("t-early")) is False

    assert lined.waiting() == ["early", "late"]
    assert workflows.woken == []


def test_a_release_wakes_the_head_of_the_line_only(lined, workflows):
    holders = full(lined)
    for index in range(3):
        lined.join_line(f"w{index}", f"2026-01-02T00:00:0{index}.000Z", workflows.wait(f"t{index}"))

    lined.release(holders[0])

    assert workflows.woken == ["t0"]
    assert lined.waiting() == ["w1", "w2"]


def test_joining_again_replaces_the_token_and_keeps_the_place(lined, workflows):
    holders = full(lined)
    lined.join_line("w0", "2026-01-02T00:00:00.000Z", "t0-timed-out")
    lined.join_line("w1", "2026-01-02T00:00:01.000Z", workflows.wait("t1"))
    lined.join_line("w0", "2026-01-02T00:00:00.000Z", workflows.wait("t0-again"))  # after a timeout

    assert lined.waiting() == ["w0", "w1"]
    lined.release(holders[0])
    assert workflows.woken == ["t0-again"]


def test_an_entry_whose_workflow_no_longer_waits_is_dropped_and_the_next_woken(lined, workflows):
    holders = full(lined)
    lined.join_line("gone", "2026-01-02T00:00:00.000Z", "t-gone")  # its task timed out or was aborted
    lined.join_line("next", "2026-01-02T00:00:01.000Z", workflows.wait("t-next"))

    lined.release(holders[0])

    assert workflows.woken == ["t-next"]
    assert lined.waiting() == []


def test_a_release_wakes_as_many_as_slots_are_free(lined, workflows):
    long_ago = T0 - 2 * LEASE
    assert lined.acquire("releases", 3, 3 * LEASE, long_ago)  # still live now
    for holder in ("vanished0", "vanished1"):  # never released: their leases are over now
        assert lined.acquire(holder, 3, LEASE, long_ago)
    for index in range(4):  # they joined while every lease was live
        token = workflows.wait(f"t{index}")
        assert not lined.join_line(f"w{index}", f"2026-01-02T00:00:0{index}.000Z", token, long_ago)

    lined.release("releases")

    assert workflows.woken == ["t0", "t1", "t2"]  # three slots free: three waiters on their way
    assert lined.waiting() == ["w3"]


def test_a_slot_freed_before_the_waiter_joined_wakes_it_at_once(lined, workflows):
    """The release came between the refused acquire and the join: nobody was in line to wake."""
    holders = full(lined)
    lined.release(holders[0])

    assert lined.join_line("w0", "2026-01-02T00:00:00.000Z", workflows.wait("t0")) is True

    assert workflows.woken == ["t0"]  # the waiter woke itself: its task ends as soon as it starts waiting
    assert lined.waiting() == []


def test_an_acquire_that_drops_expired_leases_wakes_the_line(lined, workflows):
    for index in range(3):
        assert lined.acquire(f"vanished{index}", 3, LEASE, T0 - 2 * LEASE)
    lined.join_line("w0", "2026-01-02T00:00:00.000Z", workflows.wait("t0"))
    lined.join_line("w1", "2026-01-02T00:00:01.000Z", workflows.wait("t1"))

    assert lined.acquire("newcomer", 3, LEASE, T0)

    assert workflows.woken == ["t0", "t1"]  # two slots are still free after the newcomer's


def test_a_waiter_that_joins_again_while_being_woken_keeps_its_new_entry(
    lined, workflows, dynamodb, setup_client, table_name
):
    """The entry is taken off the line on the condition that its token is still the one read."""
    holders = full(lined)
    lined.join_line("w0", "2026-01-02T00:00:00.000Z", "t0-old")
    rejoin = setup_client("dynamodb")

    def joins_again_first(**_: object) -> None:
        rejoin.put_item(
            TableName=table_name,
            Item={
                "pk": {"S": "SEMAPHORE#test"},
                "sk": {"S": "WAITER#2026-01-02T00:00:00.000Z#w0"},
                "taskToken": {"S": workflows.wait("t0-new")},
                "holder": {"S": "w0"},
            },
        )
        dynamodb.meta.events.unregister("before-call.dynamodb.DeleteItem", joins_again_first)

    dynamodb.meta.events.register("before-call.dynamodb.DeleteItem", joins_again_first)
    lined.release(holders[0])

    # The old token was not used; the new entry was read on the next pass and woken.
    assert workflows.woken == ["t0-new"]
    assert lined.waiting() == []


def test_without_a_waker_nobody_is_woken_and_the_line_stays(semaphore, workflows):
    holders = full(semaphore)
    semaphore.join_line("w0", "2026-01-02T00:00:00.000Z", workflows.wait("t0"))

    semaphore.release(holders[0])

    assert semaphore.waiting() == ["w0"]


def test_the_task_waker_sends_task_success_and_tells_a_gone_token():
    stepfunctions = boto3.client("stepfunctions", region_name="us-east-1")
    wake = task_waker(stepfunctions)
    with Stubber(stepfunctions) as stub:
        stub.add_response("send_task_success", {}, {"taskToken": "t0", "output": '{"woken": true}'})
        for code in sorted(GONE_TOKEN_ERRORS):
            stub.add_client_error("send_task_success", service_error_code=code, http_status_code=400)
        stub.add_client_error(
            "send_task_success", service_error_code="ThrottlingException", http_status_code=400
        )

        assert wake("t0") is True
        assert [wake(f"gone-{code}") for code in sorted(GONE_TOKEN_ERRORS)] == [False] * len(
            GONE_TOKEN_ERRORS
        )
        with pytest.raises(ClientError, match="ThrottlingException"):
            wake("t1")  # anything else is an error for the caller's retries


def test_a_released_slot_is_handed_to_the_waiter_before_it_wakes(lined, workflows):
    """The woken waiter holds the slot already: a newcomer cannot take it first."""
    holders = full(lined)
    lined.join_line("w0", "2026-01-02T00:00:00.000Z", workflows.wait("t0"))

    lined.release(holders[0])

    assert set(lined.holders()) == {holders[1], "w0"}
    assert lined.acquire("newcomer", 2, LEASE) is False
    assert lined.acquire("w0", 2, LEASE) is True  # the woken waiter's own acquire renews its slot
    assert lined.holders()["w0"] > datetime.now(UTC) + LEASE - timedelta(seconds=5)


def test_with_every_slot_held_a_hand_over_leaves_the_line_as_it_was(lined, workflows):
    full(lined)
    lined.join_line("w0", "2026-01-02T00:00:00.000Z", workflows.wait("t0"))
    lined.join_line("w1", "2026-01-02T00:00:01.000Z", workflows.wait("t1"))

    assert lined.hand_over(2) == 0

    assert lined.waiting() == ["w0", "w1"]
    assert workflows.woken == []


def test_a_stale_entry_of_a_waiter_that_holds_a_slot_is_dropped_and_not_woken(lined, workflows):
    """Its wait timed out and it took a slot itself: it needs no second one, and keeps its own."""
    assert lined.acquire("h0", 2, LEASE)
    assert lined.acquire("took-one", 2, LEASE)
    lined.join_line("took-one", "2026-01-02T00:00:00.000Z", "t-dead")  # left from before its timeout
    lined.join_line("w1", "2026-01-02T00:00:01.000Z", workflows.wait("t1"))

    lined.release("h0")

    assert workflows.woken == ["t1"]
    assert set(lined.holders()) == {"took-one", "w1"}
    assert lined.waiting() == []


def test_a_waiter_that_no_longer_waits_gives_its_handed_slot_back(lined, workflows):
    holders = full(lined)
    lined.join_line("gone", "2026-01-02T00:00:00.000Z", "t-gone")

    lined.release(holders[0])

    assert set(lined.holders()) == {holders[1]}
    assert lined.waiting() == []


def test_a_handed_slot_the_waiter_renewed_itself_is_not_given_back(dynamodb, table_name):
    """Its wait timed out just before the wake-up, and it took the slot by itself: the slot is its own."""
    semaphore: Semaphore

    def wake_too_late(token: str) -> bool:
        assert semaphore.acquire("w0", 2, LEASE)  # its own CreateAccount, after its timeout
        return False  # the token it had is dead

    semaphore = Semaphore(dynamodb, table_name, "test", wake_too_late)
    holders = full(semaphore)
    semaphore.join_line("w0", "2026-01-02T00:00:00.000Z", "t0-timed-out")

    semaphore.release(holders[0])

    assert set(semaphore.holders()) == {holders[1], "w0"}
    assert semaphore.holders()["w0"] > datetime.now(UTC) + LEASE - timedelta(seconds=5)
