"""A counting semaphore with leases in DynamoDB: at most N account creations in progress.

The well-known pattern (AWS's "controlling concurrency with Step Functions and
DynamoDB"): one item holds a map of holders, each with a lease expiry, and a
version; every change is a conditional write on the version (optimistic
concurrency, no read-then-write race). A holder that vanishes (an aborted
execution, a crash) stops counting when its lease expires, so a slot is always
released, by a release step or by time.

Every write also stores ``freeAt``: the moment from which a slot may be free
without anyone releasing one. It is the moment of the write when fewer than the
limit hold a slot after it, else the earliest lease expiry of the holders (the
limit is the one of the last ``acquire``, kept on the item as ``limit``). Until
then every slot is held by a live lease, and only a release (which writes
``freeAt`` again) can free one. So a waiting workflow need not call anything to
know it must keep waiting: it reads the item (the state machine's DynamoDB
GetItem) and asks ``acquire`` only when ``freeAt`` has passed, which also covers
a lease that expired (``acquire`` drops expired holders). ``freeAt`` is written
as ISO 8601 in UTC with milliseconds and a ``Z`` (``2026-01-02T03:04:05.678Z``,
rounded up): the shape of Step Functions' ``$$.State.EnteredTime``, so that the
two compare as strings in time order.

Waiting is a line, not a poll. A workflow that finds every slot taken joins the
line with its Step Functions task token (``WAITER#<since>#<holder>`` items beside
the semaphore's, oldest first) and sleeps in a ``.waitForTaskToken`` task. Every
``release`` (and an ``acquire`` that dropped expired leases) hands the free slots
to the waiters at the head of the line and wakes them with SendTaskSuccess; a
woken workflow goes back to ``acquire``, which finds the slot already its own. A wake-up can be lost (a token that
timed out, a crash between the release and the wake-up, an expired lease nobody
released), so the waiting task also times out and the workflow then reads
``freeAt`` itself: the line makes hand-overs fast, the leases keep them sure.
A woken waiter does not race for its slot: ``hand_over`` takes it in the waiter's
name before waking it.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend import aws, clock
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef
    from mypy_boto3_stepfunctions import SFNClient

# Optimistic writes that lose to a concurrent writer are simply tried again.
MAX_WRITE_ATTEMPTS = 8
# A slot handed to a waiter is held in its name until its own acquire renews it (within moments);
# should the woken workflow never get there (aborted, its report lost), the slot frees itself.
HAND_OVER_LEASE = timedelta(minutes=15)
# Step Functions' answers to a token whose task no longer waits (timed out, ended, unknown).
GONE_TOKEN_ERRORS = frozenset({"InvalidToken", "TaskDoesNotExist", "TaskTimedOut"})

# Wakes one waiting workflow by its task token; False when it no longer waits.
Wake = Callable[[str], bool]


def task_waker(stepfunctions: "SFNClient") -> Wake:
    """A ``Wake`` that completes the waiting task with SendTaskSuccess."""

    def wake(token: str) -> bool:
        try:
            stepfunctions.send_task_success(taskToken=token, output=json.dumps({"woken": True}))
        except ClientError as error:
            if aws.error_code(error) in GONE_TOKEN_ERRORS:
                return False
            raise
        return True

    return wake


def iso_timestamp(moment: datetime) -> str:
    """``moment`` as Step Functions writes timestamps: UTC, milliseconds (rounded up), ``Z``."""
    moment = moment.astimezone(UTC)
    moment += timedelta(microseconds=-moment.microsecond % 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def free_at(holders: dict[str, datetime], limit: int | None, moment: datetime) -> datetime:
    """From when a slot may be free: ``moment`` if one is free now (or the limit is unknown), else the
    earliest lease expiry."""
    if limit is None or len(holders) < limit:
        return moment
    return min(holders.values())


class Semaphore:
    def __init__(
        self, dynamodb: "DynamoDBClient", table_name: str, name: str, wake: Wake | None = None
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._partition = f"SEMAPHORE#{name}"
        self._key: dict[str, AttributeValueTypeDef] = {"pk": {"S": self._partition}, "sk": {"S": "SEMAPHORE"}}
        self._wake = wake  # None: nobody waits in line (a semaphore used without workflows)

    @property
    def key(self) -> dict[str, dict[str, str]]:
        """The item's key, in DynamoDB's JSON (what the state machine's GetItem reads)."""
        return {"pk": {"S": self._partition}, "sk": {"S": "SEMAPHORE"}}

    def holders(self, now: datetime | None = None) -> dict[str, datetime]:
        """Live holders and their lease expiry."""
        holders, *_ = self._read()
        moment = now or clock.now()
        return {holder: until for holder, until in holders.items() if until > moment}

    def _read(self) -> tuple[dict[str, datetime], int, int | None, str | None]:
        """Holders, version, the stored limit and the stored ``freeAt``."""
        item = self._dynamodb.get_item(TableName=self._table, Key=self._key, ConsistentRead=True).get(
            "Item", {}
        )
        holders = {
            holder: datetime.fromtimestamp(float(value["N"]), UTC)
            for holder, value in item.get("holders", {}).get("M", {}).items()
        }
        limit = int(item["limit"]["N"]) if "limit" in item else None
        version = int(item.get("version", {}).get("N", "0"))
        return holders, version, limit, item.get("freeAt", {}).get("S")

    def _write(self, holders: dict[str, datetime], version: int, limit: int | None, moment: datetime) -> bool:
        item: dict[str, AttributeValueTypeDef] = {
            **self._key,
            "holders": {"M": {holder: {"N": str(until.timestamp())} for holder, until in holders.items()}},
            "version": {"N": str(version + 1)},
            "freeAt": {"S": iso_timestamp(free_at(holders, limit, moment))},
        }
        if limit is not None:
            item["limit"] = {"N": str(limit)}
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(version) OR version = :version",
                ExpressionAttributeValues={":version": {"N": str(version)}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def acquire(self, holder: str, limit: int, lease: timedelta, now: datetime | None = None) -> bool:
        """Take (or renew) a slot for ``holder``; False when all ``limit`` slots are held by others."""
        outcome, dropped_expired, _ = self._take(holder, limit, lease, now)
        if outcome == "taken" and dropped_expired:
            self.hand_over(limit)  # the slots of expired leases go to the line first
        return outcome == "taken"

    def _take(
        self,
        holder: str,
        limit: int,
        lease: timedelta,
        now: datetime | None = None,
        *,
        newcomer_only: bool = False,
    ) -> tuple[str, bool, datetime | None]:
        """("taken", "full" or "holds already": with ``newcomer_only``, a live holder is not renewed),
        whether expired holders were dropped from the item, and the lease's end when taken."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            moment = now or clock.now()
            holders, version, stored_limit, stored_free_at = self._read()
            live = {name: until for name, until in holders.items() if until > moment}
            if newcomer_only and holder in live:
                return "holds already", False, None
            if holder not in live and len(live) >= limit:
                # Refused. A stale item (expired holders, another limit, an older item without
                # freeAt) would send waiters here at every poll: write it right, once, best effort.
                if stored_limit != limit or stored_free_at != iso_timestamp(free_at(live, limit, moment)):
                    self._write(live, version, limit, moment)
                return "full", False, None
            if self._write({**live, holder: moment + lease}, version, limit, moment):
                return "taken", len(live) < len(holders), moment + lease
        return "full", False, None  # heavy contention: the caller waits and tries again

    def release(self, holder: str) -> None:
        """Free ``holder``'s slot and hand the free slots to the head of the line (also when an earlier
        attempt of the caller released it but failed before handing over)."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            holders, version, limit, _ = self._read()
            moment = clock.now()  # expired leases go too
            remaining = {name: until for name, until in holders.items() if name != holder and until > moment}
            if holder in holders and not self._write(remaining, version, limit, moment):
                continue
            if limit is not None:
                self.hand_over(limit)
            return
        raise RuntimeError(f"could not release {holder}'s slot after {MAX_WRITE_ATTEMPTS} attempts")

    # ----------------------------------------------------------------------- the line

    def _waiter_key(self, holder: str, since: str) -> dict[str, "AttributeValueTypeDef"]:
        return {"pk": {"S": self._partition}, "sk": {"S": f"WAITER#{since}#{holder}"}}

    def join_line(self, holder: str, since: str, token: str, now: datetime | None = None) -> bool:
        """Wait in line for a slot with a task token; ``since`` (ISO 8601) orders the line.

        Joining again (a new token after a timeout) replaces the entry and keeps the place.
        True when a slot was already free again, and the head of the line was woken.
        """
        self._dynamodb.put_item(
            TableName=self._table,
            Item={**self._waiter_key(holder, since), "taskToken": {"S": token}, "holder": {"S": holder}},
        )
        # A slot freed between the caller's refused acquire and this write woke nobody: look once more.
        holders, _, limit, _ = self._read()
        moment = now or clock.now()
        live = [name for name, until in holders.items() if until > moment]
        if limit is None or len(live) >= limit:
            return False
        self.hand_over(limit)
        return True

    def waiting(self) -> list[str]:
        """Holders waiting in line, oldest first."""
        return [str(item["holder"]["S"]) for item in self._line()]

    def _line(self, limit: int | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :waiter)",
            "ExpressionAttributeValues": {":pk": self._key["pk"], ":waiter": {"S": "WAITER#"}},
            "ConsistentRead": True,
        }
        if limit is not None:
            query["Limit"] = limit
        items: list[dict[str, Any]] = []
        while True:
            page = self._dynamodb.query(**query)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page or (limit is not None and len(items) >= limit):
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _claim(self, entry: dict[str, Any]) -> dict[str, Any] | None:
        """Take ``entry`` off the line, with the token it has now; None when another release took it.

        The delete is conditional on the token read: a waiter that joined again meanwhile has a new
        token, which is read and claimed instead. Whoever claims an entry is the only one to wake it.
        """
        for _ in range(MAX_WRITE_ATTEMPTS):
            try:
                self._dynamodb.delete_item(
                    TableName=self._table,
                    Key={"pk": entry["pk"], "sk": entry["sk"]},
                    ConditionExpression="taskToken = :token",
                    ExpressionAttributeValues={":token": entry["taskToken"]},
                )
            except ClientError as error:
                if aws.error_code(error) != "ConditionalCheckFailedException":
                    raise
                fresh = self._dynamodb.get_item(
                    TableName=self._table, Key={"pk": entry["pk"], "sk": entry["sk"]}, ConsistentRead=True
                ).get("Item")
                if fresh is None:
                    return None
                entry = fresh
                continue
            return entry
        return None

    def _put_back(self, entry: dict[str, Any]) -> None:
        """Return a claimed entry to its place, unless the waiter joined again meanwhile."""
        try:
            self._dynamodb.put_item(
                TableName=self._table, Item=entry, ConditionExpression="attribute_not_exists(sk)"
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise

    def _give_back(self, waiter: str, until: datetime) -> None:
        """Free a slot handed to a waiter that no longer waited, unless the waiter has renewed it
        meanwhile (its own acquire, after its wait timed out): then the slot is its own."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            holders, version, limit, _ = self._read()
            if holders.get(waiter) != until:
                return
            moment = clock.now()
            remaining = {name: end for name, end in holders.items() if name != waiter and end > moment}
            if self._write(remaining, version, limit, moment):
                return

    def hand_over(self, limit: int) -> int:
        """Hand free slots to the waiters at the head of the line; returns how many were woken.

        A slot is handed over, not merely announced: the waiter's entry is claimed (taken off the
        line), the slot is taken in its name (for ``HAND_OVER_LEASE``; its own ``acquire`` renews
        it), and only then is it woken. So no newcomer takes the slot meanwhile, no more waiters are
        woken than slots are free, and two releases never wake the same waiter. A waiter that no
        longer waits gives the slot back, to the next in line.
        """
        if self._wake is None:
            return 0
        woken = 0
        while len(self.holders()) < limit and (entries := self._line(limit=1)):
            entry = self._claim(entries[0])
            if entry is None:
                continue  # another release claimed it
            waiter = str(entry["holder"]["S"])
            outcome, _, until = self._take(waiter, limit, HAND_OVER_LEASE, newcomer_only=True)
            if outcome == "holds already":
                continue  # it took a slot itself after its wait timed out: the entry was stale
            if outcome == "full":
                self._put_back(entry)
                break  # every slot is held: the line waits for the next release
            if self._wake(str(entry["taskToken"]["S"])):
                woken += 1
            elif until is not None:
                self._give_back(waiter, until)  # it no longer waits: the slot goes to the next
        return woken


ACCOUNT_CREATION = "account-creation"


def creation_slots(
    dynamodb: "DynamoDBClient", table_name: str, stepfunctions: "SFNClient | None" = None
) -> Semaphore:
    """The semaphore that keeps account creations in progress under AWS's limit (in the registry table);
    with a Step Functions client, releases wake the onboardings waiting in line."""
    wake = task_waker(stepfunctions) if stepfunctions is not None else None
    return Semaphore(dynamodb, table_name, ACCOUNT_CREATION, wake)


def default_creation_slots(settings: Settings) -> Semaphore:
    return creation_slots(aws.client("dynamodb"), settings.registry_table_name, aws.client("stepfunctions"))
