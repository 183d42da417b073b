"""Accounts: the ACCOUNT# entries, written whole on their version or one attribute at a time."""

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.clock import now
from orgvend.errors import AccountNotAdoptable, WriteContention
from orgvend.models import ADOPTABLE_STATUSES, AccountRecord, AccountStatus, Onboarding, OnboardingStatus
from orgvend.registry.items import (
    ACCOUNTS_INDEX,
    BY_CLIENT_INDEX,
    BY_STATUS_INDEX,
    KEPT_BY_ONBOARDINGS,
    KEPT_UNLESS_GIVEN,
    MAX_WRITE_ATTEMPTS,
    VERSION,
    Item,
    account_key,
    attribute_values,
    cancelled_on,
    email_key,
    onboarding_key,
    record_of,
    set_expression,
)
from orgvend.registry.writes import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import PutTypeDef, QueryInputTypeDef, TransactWriteItemTypeDef


class Accounts(Table):
    """The ACCOUNT# items and their indexes."""

    def write_account(
        self,
        account_id: str,
        change: Callable[[AccountRecord | None], AccountRecord | None],
        *,
        onboarding: tuple[str, OnboardingStatus | None] | None = None,
        also: Callable[[AccountRecord], list["TransactWriteItemTypeDef"]] | None = None,
    ) -> AccountRecord | None:
        """Read the entry, ``change`` it, write it back only if nobody wrote it in between; again if someone did.

        Every write of a whole entry goes through here (writes of single attributes go through
        ``_update_account_attributes``), so that no write undoes another: the entry carries a version,
        every write is conditional on the version it read, and a write that lost the race re-reads and
        re-applies its change to what the other writer left. ``change`` sees the current entry (None when
        there is none) and returns the new one, or None to write nothing; it may raise to refuse.
        ``onboarding`` (ID, status) writes the onboarding's item and its email guard in the same
        transaction; ``also`` gives more items for it, from the new entry. Returns the entry as written (or as found, when nothing changed).
        """
        for _ in range(MAX_WRITE_ATTEMPTS):
            current, version = self._read_account(account_id)
            values: Item
            new = change(current)
            if new is None or new == current:
                return current
            if current is None:
                condition, values = "attribute_not_exists(pk)", {}
            elif version is None:
                condition, values = f"attribute_exists(pk) AND attribute_not_exists({VERSION})", {}
            else:
                condition, values = f"{VERSION} = :version", {":version": {"N": str(version)}}
            put: PutTypeDef = {
                "TableName": self._table,
                "Item": self._account_item(new, (version or 0) + 1),
                "ConditionExpression": condition,
            }
            if values:
                put["ExpressionAttributeValues"] = values
            items: list[TransactWriteItemTypeDef] = [{"Put": put}]
            if onboarding:
                items.extend(self._onboarding_items(new, *onboarding))
            if also:
                items.extend(also(new))
            try:
                self._dynamodb.transact_write_items(TransactItems=items)
            except ClientError as error:
                if cancelled_on(error) == [0]:
                    continue  # another writer came first: read again, change again
                raise
            return new
        raise WriteContention(f"account {account_id} changed {MAX_WRITE_ATTEMPTS} times while being written")

    def _account_item(self, record: AccountRecord, version: int) -> Item:
        item = record.stored_json()
        item.update(
            {
                "pk": f"ACCOUNT#{record.account_id}",
                "sk": "ACCOUNT",
                "gsi1pk": f"CLIENT#{record.client}",
                "gsi1sk": f"{record.project}#{record.account_id}",
                "gsi2pk": f"STATUS#{record.status.value}",
                "gsi2sk": f"{record.client}#{record.project}#{record.account_id}",
                "gsi3pk": "ACCOUNT",
                "gsi3sk": f"{record.client}#{record.project}#{record.account_id}",
                VERSION: version,
            }
        )
        return attribute_values(item)

    def _read_account(self, account_id: str) -> tuple[AccountRecord | None, int | None]:
        """The entry and its version (None: absent, or an entry written before versions)."""
        response = self._dynamodb.get_item(
            TableName=self._table, Key=account_key(account_id), ConsistentRead=True
        )
        if "Item" not in response:
            return None, None
        item = response["Item"]
        return record_of(item), int(item[VERSION]["N"]) if VERSION in item else None

    def _onboarding_items(
        self, record: AccountRecord, onboarding_id: str, status: OnboardingStatus | None
    ) -> list["TransactWriteItemTypeDef"]:
        """The onboarding's item (its account, outcome) and its email guard, beside the account's entry."""
        stamp = now().isoformat()
        onboarding_fields: dict[str, Any] = {"accountId": record.account_id, "updatedAt": stamp}
        if status:
            onboarding_fields["status"] = status.value
        if record.failure:
            onboarding_fields["failure"] = record.failure
        expression, names, values = set_expression(onboarding_fields)
        return [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": onboarding_key(onboarding_id),
                    "UpdateExpression": expression,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": email_key(record.email),
                    "UpdateExpression": "SET accountId = :a",
                    "ConditionExpression": "onboardingId = :me",
                    "ExpressionAttributeValues": attribute_values(
                        {":a": record.account_id, ":me": onboarding_id}
                    ),
                }
            },
        ]

    def save_account(
        self, record: AccountRecord, *, onboarding_status: OnboardingStatus | None = None
    ) -> AccountRecord:
        """Write an account's entry for its onboarding (``record.onboarding_id``), with the onboarding's item
        and its email guard.

        An entry another onboarding owns is taken over only from a state orgvend may adopt again
        (NEEDS_ROLE, OUT_OF_SCOPE); otherwise AccountNotAdoptable. What the onboarding does not decide is
        kept from the current entry: an owner's root confirmation, an offboarding's hold, the first creation.
        """

        def change(current: AccountRecord | None) -> AccountRecord:
            if current is None:
                return record
            if current.onboarding_id != record.onboarding_id and current.status not in ADOPTABLE_STATUSES:
                raise AccountNotAdoptable(
                    f"account {record.account_id} is registered as {current.status.value} by another "
                    "onboarding; orgvend adopts only unregistered accounts or accounts waiting to be adopted again"
                )
            return record.model_copy(
                update={field: getattr(current, field) for field in KEPT_BY_ONBOARDINGS}
                | {
                    field: getattr(current, field)
                    for field in KEPT_UNLESS_GIVEN
                    if getattr(record, field) is None
                }
                | {"created_at": current.created_at}
            )

        onboarding = (record.onboarding_id, onboarding_status) if record.onboarding_id else None
        written = self.write_account(record.account_id, change, onboarding=onboarding)
        assert written is not None  # change never answers None
        return written

    def update_account(
        self, account_id: str, change: Callable[[AccountRecord], AccountRecord | None]
    ) -> AccountRecord | None:
        """Change an existing entry (its client, project or status may change: the index keys follow).

        ``change`` gets the entry as it is now, read again on every attempt; None when there is no entry.
        """
        return self.write_account(account_id, lambda current: change(current) if current else None)

    def confirm_root_secured(self, account_id: str, who: str) -> AccountRecord | None:
        """Record that the account's root password was reset and MFA enabled; None for an unknown account."""
        stamp = now().isoformat()
        try:
            response = self._dynamodb.update_item(
                TableName=self._table,
                Key=account_key(account_id),
                # Only its own attributes, and the version (so a whole-entry writer reads again).
                UpdateExpression=f"SET rootSecuredAt = :at, rootSecuredBy = :by, updatedAt = :at ADD {VERSION} :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=attribute_values({":at": stamp, ":by": who, ":one": 1}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return record_of(response["Attributes"])

    def get_account(self, account_id: str) -> AccountRecord | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key=account_key(account_id), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return record_of(response["Item"])

    def list_accounts(
        self,
        *,
        client: str | None = None,
        project: str | None = None,
        status: str | None = None,
        limit: int = 100,
        start_key: Item | None = None,
    ) -> tuple[list[AccountRecord], Item | None]:
        """One page of accounts matching the filters, always by a Query on the index made for them."""
        if project and not client:
            raise ValueError("a project filter needs a client filter")
        # Each filter has its index: a partition to read and, for a narrower filter, a sort-key prefix.
        prefix: str | None
        if status:
            index, key, partition = BY_STATUS_INDEX, "gsi2", f"STATUS#{status}"
            prefix = (f"{client}#{project}#" if project else f"{client}#") if client else None
        elif client:
            index, key, partition = BY_CLIENT_INDEX, "gsi1", f"CLIENT#{client}"
            prefix = f"{project}#" if project else None
        else:
            index, key, partition, prefix = ACCOUNTS_INDEX, "gsi3", "ACCOUNT", None
        condition = f"{key}pk = :partition"
        values: dict[str, Any] = {":partition": partition}
        if prefix:
            condition += f" AND begins_with({key}sk, :prefix)"
            values[":prefix"] = prefix
        arguments: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": attribute_values(values),
            "Limit": limit,
        }
        if start_key:
            arguments["ExclusiveStartKey"] = start_key
        response = self._dynamodb.query(**arguments)
        return [record_of(item) for item in response["Items"]], response.get("LastEvaluatedKey")

    def accounts_where(self, *, status: str, client: str | None = None) -> Iterator[AccountRecord]:
        """Every account with ``status`` (of ``client``), page by page (Query on ``ByStatus``)."""
        start_key: Item | None = None
        while True:
            records, start_key = self.list_accounts(
                status=status, client=client, limit=1000, start_key=start_key
            )
            yield from records
            if not start_key:
                return

    def all_accounts(self) -> Iterator[AccountRecord]:
        """Every account, page by page (Query on ``Accounts``, up to 1 MB a page)."""
        start_key: Item | None = None
        while True:
            records, start_key = self.list_accounts(limit=1000, start_key=start_key)
            yield from records
            if not start_key:
                return


def pending_record(onboarding: Onboarding, account_id: str, status: AccountStatus) -> AccountRecord:
    """The registry entry of an account as soon as it exists: it must never be lost."""
    stamp = now()
    return AccountRecord(
        account_id=account_id,
        account_name=onboarding.account_name,
        email=onboarding.email,
        client=onboarding.client,
        project=onboarding.project,
        role_name=onboarding.role_name,
        status=status,
        tags=onboarding.tags,
        onboarding_id=onboarding.onboarding_id,
        execution_arn=onboarding.execution_arn,
        requested_by=onboarding.requested_by,
        created_at=stamp,
        updated_at=stamp,
    )
