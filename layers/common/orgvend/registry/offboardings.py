"""Offboardings: their items, and the hold an offboarding has on its account."""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.clock import now
from orgvend.errors import OffboardingInProgress
from orgvend.models import OFFBOARDABLE_STATUSES, AccountRecord, AccountStatus, Offboarding, OnboardingStatus
from orgvend.registry.accounts import Accounts
from orgvend.registry.items import (
    VERSION,
    account_key,
    attribute_values,
    lost_on_condition,
    offboarding_key,
    plain,
    set_expression,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class Offboardings(Accounts):
    """The OFFBOARDING# items, and an account's offboardingId."""

    def begin_offboarding(self, offboarding: Offboarding) -> bool:
        """Take the account for this offboarding and record the offboarding, in one transaction.

        False when the account is gone, another offboarding holds it, or its status
        does not allow offboarding (the caller reads the entry to say which). Taking
        it again for the same offboarding (a retried step) succeeds.
        """
        stamp = now().isoformat()
        statuses = sorted(status.value for status in OFFBOARDABLE_STATUSES)
        allowed = ", ".join(f":s{index}" for index in range(len(statuses)))
        # An Update, not a Put: a redriven BeginOffboarding (after it failed, say, because another
        # offboarding held the account) keeps the failure bookkeeping of the earlier attempt.
        expression, names, values = set_expression(
            {
                **offboarding.to_json(),
                "status": OnboardingStatus.RUNNING.value,
                "createdAt": stamp,
                "updatedAt": stamp,
            },
            keep_first=("createdAt",),
        )
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": account_key(offboarding.account_id),
                            "UpdateExpression": f"SET offboardingId = :me, updatedAt = :at ADD {VERSION} :one",
                            "ConditionExpression": "attribute_exists(pk) AND (offboardingId = :me OR "
                            f"(attribute_not_exists(offboardingId) AND #status IN ({allowed})))",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": attribute_values(
                                {
                                    ":me": offboarding.offboarding_id,
                                    ":at": stamp,
                                    ":one": 1,
                                    **{f":s{index}": status for index, status in enumerate(statuses)},
                                }
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": offboarding_key(offboarding.offboarding_id),
                            "UpdateExpression": expression,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                ]
            )
        except ClientError as error:
            if lost_on_condition(error):
                return False
            raise
        return True

    def retake_offboarding(self, account_id: str, offboarding_id: str, attempt: int) -> bool:
        """Take the account again for a failed offboarding about to be retried as ``attempt`` (its redrive
        count once redriven): a late failure report of an earlier attempt cannot let go of it then.

        False when another offboarding holds it now (or the entry is gone).
        """
        return self._conditional(
            lambda: self._dynamodb.update_item(
                TableName=self._table,
                Key=account_key(account_id),
                UpdateExpression=f"SET offboardingId = :me, offboardingAttempt = :attempt ADD {VERSION} :one",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(offboardingId) OR offboardingId = :me)",
                ExpressionAttributeValues={
                    ":me": {"S": offboarding_id},
                    ":attempt": {"N": str(attempt)},
                    ":one": {"N": "1"},
                },
            )
        )

    def offboarded(
        self,
        account_id: str,
        offboarding_id: str,
        *,
        status: AccountStatus,
        at: datetime,
        finished: bool,
    ) -> AccountRecord:
        """The account's new state for this offboarding (CLOSING, CLOSED, DETACHED).

        ``finished`` also lets go of the account and marks the offboarding SUCCEEDED (in one
        transaction). Only the offboarding that holds the account (or nobody, after a redrive) may write
        it: otherwise OffboardingInProgress.
        """

        def change(current: AccountRecord | None) -> AccountRecord:
            if current is None:
                raise LookupError(f"account {account_id} vanished from the registry during its offboarding")
            if current.offboarding_id not in (None, offboarding_id):
                raise OffboardingInProgress(
                    f"account {account_id} is held by offboarding {current.offboarding_id}, not {offboarding_id}"
                )
            return current.model_copy(
                update={
                    "status": status,
                    "offboarded_at": current.offboarded_at or at,
                    "offboarding_id": None if finished else offboarding_id,
                    "offboarding_attempt": None if finished else current.offboarding_attempt,
                    "updated_at": at,
                }
            )

        def offboarding_done(_: AccountRecord) -> list["TransactWriteItemTypeDef"]:
            return [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": offboarding_key(offboarding_id),
                        "UpdateExpression": "SET #status = :done, outcome = :outcome, updatedAt = :at",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": attribute_values(
                            {
                                ":done": OnboardingStatus.SUCCEEDED.value,
                                ":outcome": status.value,
                                ":at": now().isoformat(),
                            }
                        ),
                    }
                }
            ]

        written = self.write_account(account_id, change, also=offboarding_done if finished else None)
        assert written is not None
        return written

    def fail_offboarding(
        self,
        offboarding_id: str,
        execution_arn: str,
        error_name: str,
        message: str,
        *,
        attempt: int,
        requested: Mapping[str, str] | None = None,
    ) -> bool:
        """Record an offboarding's failure and let go of its account; True while not yet notified.

        ``requested`` (the execution's ``accountId`` and ``mode``) names an offboarding that
        failed before BeginOffboarding recorded it, so that it still lists with its account.
        """
        offboarding = self.get_offboarding(offboarding_id) or {}
        if offboarding.get("accountId"):
            self.release_offboarding(str(offboarding["accountId"]), offboarding_id, attempt)
        return self._record_failure(
            offboarding_key(offboarding_id),
            {"offboardingId": offboarding_id, **(requested or {})},
            execution_arn,
            error_name,
            message,
            attempt=attempt,
            keep=tuple(requested or ()),
        )

    def release_offboarding(self, account_id: str, offboarding_id: str, attempt: int | None = None) -> bool:
        """Let go of the account if this offboarding holds it (for ``attempt`` or an earlier one, when given:
        never the hold a later attempt took); False when it does not."""
        condition, values = "offboardingId = :me", {":me": {"S": offboarding_id}, ":one": {"N": "1"}}
        if attempt is not None:
            condition += " AND (attribute_not_exists(offboardingAttempt) OR offboardingAttempt <= :attempt)"
            values[":attempt"] = {"N": str(attempt)}
        return self._conditional(
            lambda: self._dynamodb.update_item(
                TableName=self._table,
                Key=account_key(account_id),
                UpdateExpression=f"REMOVE offboardingId, offboardingAttempt ADD {VERSION} :one",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        )

    def offboarding_failure_notified(self, offboarding_id: str, attempt: int) -> None:
        self._notified(offboarding_key(offboarding_id), attempt)

    def get_offboarding(self, offboarding_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key=offboarding_key(offboarding_id), ConsistentRead=True
        )
        return plain(response["Item"]) if "Item" in response else None

    def offboardings(self, offboarding_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Offboarding items by ID, like ``onboardings``."""
        return self._items_by_id(offboarding_ids, offboarding_key, "offboardingId")
