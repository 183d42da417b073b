"""A counting semaphore with leases in DynamoDB: at most N account creations in progress.

The well-known pattern (AWS's "controlling concurrency with Step Functions and
DynamoDB"): one item holds a map of holders, each with a lease expiry, and a
version; every change is a conditional write on the version (optimistic
concurrency, no read-then-write race). A holder that vanishes (an aborted
execution, a crash) stops counting when its lease expires, so a slot is always
released, by a release step or by time.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from orgvend import aws
from orgvend.settings import Settings

# Optimistic writes that lose to a concurrent writer are simply tried again.
MAX_WRITE_ATTEMPTS = 8


class Semaphore:
    def __init__(self, dynamodb: Any, table_name: str, name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._key = {"pk": {"S": f"SEMAPHORE#{name}"}, "sk": {"S": "SEMAPHORE"}}

    def holders(self, now: datetime | None = None) -> dict[str, datetime]:
        """Live holders and their lease expiry."""
        holders, _ = self._read()
        moment = now or datetime.now(UTC)
        return {holder: until for holder, until in holders.items() if until > moment}

    def _read(self) -> tuple[dict[str, datetime], int]:
        item = self._dynamodb.get_item(TableName=self._table, Key=self._key, ConsistentRead=True).get(
            "Item", {}
        )
        holders = {
            holder: datetime.fromtimestamp(float(value["N"]), UTC)
            for holder, value in item.get("holders", {}).get("M", {}).items()
        }
        return holders, int(item.get("version", {}).get("N", "0"))

    def _write(self, holders: dict[str, datetime], version: int) -> bool:
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **self._key,
                    "holders": {
                        "M": {holder: {"N": str(until.timestamp())} for holder, until in holders.items()}
                    },
                    "version": {"N": str(version + 1)},
                },
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
        for _ in range(MAX_WRITE_ATTEMPTS):
            moment = now or datetime.now(UTC)
            holders, version = self._read()
            live = {name: until for name, until in holders.items() if until > moment}
            if holder not in live and len(live) >= limit:
                return False
            if self._write({**live, holder: moment + lease}, version):
                return True
        return False  # heavy contention: the caller waits and tries again

    def release(self, holder: str) -> None:
        for _ in range(MAX_WRITE_ATTEMPTS):
            holders, version = self._read()
            if holder not in holders:
                return
            moment = datetime.now(UTC)  # expired leases go too
            remaining = {name: until for name, until in holders.items() if name != holder and until > moment}
            if self._write(remaining, version):
                return
        raise RuntimeError(f"could not release {holder}'s slot after {MAX_WRITE_ATTEMPTS} attempts")


ACCOUNT_CREATION = "account-creation"


def creation_slots(dynamodb: Any, table_name: str) -> Semaphore:
    """The semaphore that keeps account creations in progress under AWS's limit (in the registry table)."""
    return Semaphore(dynamodb, table_name, ACCOUNT_CREATION)


def default_creation_slots() -> Semaphore:
    return creation_slots(aws.client("dynamodb"), Settings.from_environment().registry_table_name)
