"""Data access for the registry table (single-table design).

Items, all in one table:

========================  =============  ======================================
pk                        sk             what
========================  =============  ======================================
``ACCOUNT#<accountId>``   ``ACCOUNT``    an account (``AccountRecord``), in three
                                         GSIs: ``ByClient`` (gsi1pk ``CLIENT#<client>``,
                                         gsi1sk ``<project>#<accountId>``),
                                         ``ByStatus`` (gsi2pk ``STATUS#<status>``,
                                         gsi2sk ``<client>#<project>#<accountId>``),
                                         ``Accounts`` (gsi3pk ``ACCOUNT``, gsi3sk as gsi2sk)
``ONBOARDING#<id>``       ``ONBOARDING`` one onboarding (execution) and its outcome
``EMAIL#<email>``         ``EMAIL``      uniqueness guard: which onboarding owns
                                         an email address
``CREATEREQUEST#<id>``    ``CREATEREQUEST`` which onboarding made a CreateAccount request
``OFFBOARDING#<id>``      ``OFFBOARDING`` one offboarding (execution): account, mode, outcome
``SEMAPHORE#<name>``      ``SEMAPHORE``  the creation slots (orgvend.semaphore)
========================  =============  ======================================

"All accounts of client X" is a Query on ``ByClient`` with gsi1pk only, "of
client X, project Y" adds ``begins_with(gsi1sk, "Y#")``; a status (optionally
with client and project) queries ``ByStatus``; no filter queries ``Accounts``.
Every listing is a Query that reads only the items it returns. A second registration
of an email fails atomically on the guard item's condition inside the same
transaction that writes the onboarding. An account being offboarded carries
``offboardingId``: the lock that keeps a second offboarding of it from starting.
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from orgvend import aws
from orgvend.errors import AccountNotAdoptable, EmailAlreadyRegistered, OffboardingInProgress, WriteContention
from orgvend.models import (
    ADOPTABLE_STATUSES,
    OFFBOARDABLE_STATUSES,
    AccountRecord,
    AccountStatus,
    Offboarding,
    Onboarding,
    OnboardingStatus,
)
from orgvend.settings import Settings

# Every account entry carries a version: whole-entry writes are conditional on it (``write_account``).
VERSION = "version"
MAX_WRITE_ATTEMPTS = 8
# What an onboarding's write of an entry keeps from the entry as it is.
KEPT_BY_ONBOARDINGS = (
    "root_secured_at",
    "root_secured_by",
    "offboarding_id",
    "offboarding_attempt",
    "offboarded_at",
)
BY_CLIENT_INDEX = "ByClient"
BY_STATUS_INDEX = "ByStatus"
ACCOUNTS_INDEX = "Accounts"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def now() -> datetime:
    return datetime.now(UTC)


def account_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}


def onboarding_key(onboarding_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ONBOARDING#{onboarding_id}"}, "sk": {"S": "ONBOARDING"}}


def offboarding_key(offboarding_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"OFFBOARDING#{offboarding_id}"}, "sk": {"S": "OFFBOARDING"}}


def create_request_key(request_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CREATEREQUEST#{request_id}"}, "sk": {"S": "CREATEREQUEST"}}


def email_key(email: str) -> dict[str, Any]:
    # Organizations treats addresses case-insensitively: so does the guard.
    return {"pk": {"S": f"EMAIL#{email.lower()}"}, "sk": {"S": "EMAIL"}}


def cancelled_on(error: ClientError) -> list[int]:
    """The items of a cancelled transaction whose condition failed (empty for any other error)."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return []
    reasons = error.response.get("CancellationReasons") or []
    return [index for index, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]


def email_claim_condition(onboarding: Onboarding) -> dict[str, Any]:
    """Who may claim an email: nobody holds it, or this onboarding does; an adoption may also take it
    over from an earlier onboarding of the very same account (adopted again, back in the scope)."""
    condition = "attribute_not_exists(pk) OR onboardingId = :me"
    values = {":me": {"S": onboarding.onboarding_id}}
    if onboarding.account_id:
        condition += " OR accountId = :account"
        values[":account"] = {"S": onboarding.account_id}
    return {"ConditionExpression": condition, "ExpressionAttributeValues": values}


def lost_on_condition(error: ClientError) -> bool:
    """A transaction cancelled because its first item's condition failed (not throttling, not a conflict)."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"


def _attribute_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _set_expression(fields: Mapping[str, Any], *, keep_first: tuple[str, ...] = ()) -> tuple[str, dict, dict]:
    """An UpdateExpression that sets ``fields`` (``keep_first`` only when still absent)."""
    names, values, parts = {}, {}, []
    for index, (field, value) in enumerate(fields.items()):
        names[f"#f{index}"] = field
        values[f":v{index}"] = value
        if field in keep_first:
            parts.append(f"#f{index} = if_not_exists(#f{index}, :v{index})")
        else:
            parts.append(f"#f{index} = :v{index}")
    return "SET " + ", ".join(parts), names, _attribute_values(values)


class Registry:
    """The registry table, reached through a DynamoDB client passed in."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    # -- onboardings -------------------------------------------------------

    def open_onboarding(self, onboarding: Onboarding) -> None:
        """Claim the email for this onboarding and record it, atomically.

        Re-running the same onboarding (a retry or a redrive) succeeds and
        changes nothing that a later step wrote.
        """
        stamp = now().isoformat()
        expression, names, values = _set_expression(
            {
                "onboardingId": onboarding.onboarding_id,
                "executionArn": onboarding.execution_arn,
                "status": OnboardingStatus.RUNNING.value,
                "mode": onboarding.mode,
                "client": onboarding.client,
                "project": onboarding.project,
                "email": onboarding.email,
                "accountName": onboarding.account_name,
                "roleName": onboarding.role_name,
                "startedAt": onboarding.started_at.isoformat(),
                **({"requestedBy": onboarding.requested_by} if onboarding.requested_by else {}),
                "createdAt": stamp,
                "updatedAt": stamp,
            },
            keep_first=("createdAt",),
        )
        email_guard = {
            **email_key(onboarding.email),
            **_attribute_values(
                {"onboardingId": onboarding.onboarding_id, "email": onboarding.email, "createdAt": stamp}
            ),
        }
        if onboarding.account_id:
            email_guard["accountId"] = {"S": onboarding.account_id}
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": email_guard,
                            **email_claim_condition(onboarding),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": onboarding_key(onboarding.onboarding_id),
                            "UpdateExpression": expression,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                ]
            )
        except ClientError as error:
            if not lost_on_condition(error):
                raise  # throttled or conflicting: the step retries
            owner = self.email_owner(onboarding.email) or {}
            raise EmailAlreadyRegistered(
                f"email {onboarding.email} is already registered"
                + (f" to account {owner['accountId']}" if owner.get("accountId") else "")
                + (f" by onboarding {owner['onboardingId']}" if owner.get("onboardingId") else "")
            ) from error

    def reclaim_email(self, onboarding: Onboarding) -> None:
        """Claim the onboarding's email again, before it creates an account: a failure report frees the
        email of an onboarding that created nothing, and a redrive of it must not create an account whose
        address another onboarding has claimed since (EmailAlreadyRegistered)."""
        item = {
            **email_key(onboarding.email),
            **_attribute_values(
                {
                    "onboardingId": onboarding.onboarding_id,
                    "email": onboarding.email,
                    "createdAt": now().isoformat(),
                }
            ),
        }
        try:
            self._dynamodb.put_item(TableName=self._table, Item=item, **email_claim_condition(onboarding))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            owner = self.email_owner(onboarding.email) or {}
            raise EmailAlreadyRegistered(
                f"email {onboarding.email} was claimed by onboarding {owner.get('onboardingId')} after this "
                "one failed; start a new onboarding with another address"
            ) from None

    def email_owner(self, email: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=self._table, Key=email_key(email), ConsistentRead=True)
        return _plain(response["Item"]) if "Item" in response else None

    def get_onboarding(self, onboarding_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key=onboarding_key(onboarding_id), ConsistentRead=True
        )
        return _plain(response["Item"]) if "Item" in response else None

    def remember_create_request(self, onboarding_id: str, request_id: str) -> str:
        """Store the CreateAccount request ID once; returns the one stored (first wins).

        A second item maps the request ID back to the onboarding, so that an
        Organizations ``CreateAccountResult`` event can tell orgvend's own creations.
        """
        stamp = now().isoformat()
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": onboarding_key(onboarding_id),
                            "UpdateExpression": "SET createRequestId = :r, updatedAt = :t",
                            "ConditionExpression": "attribute_not_exists(createRequestId) OR createRequestId = :r",
                            "ExpressionAttributeValues": _attribute_values({":r": request_id, ":t": stamp}),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **create_request_key(request_id),
                                **_attribute_values({"onboardingId": onboarding_id, "createdAt": stamp}),
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            stored = self.get_onboarding(onboarding_id) or {}
            if not lost_on_condition(error) or "createRequestId" not in stored:
                raise
            return str(stored["createRequestId"])
        return request_id

    def onboarding_of_create_request(self, request_id: str) -> str | None:
        """The onboarding that made a CreateAccount request, if orgvend made it."""
        response = self._dynamodb.get_item(
            TableName=self._table, Key=create_request_key(request_id), ConsistentRead=True
        )
        return str(response["Item"]["onboardingId"]["S"]) if "Item" in response else None

    # -- accounts ----------------------------------------------------------

    def _account_item(self, record: AccountRecord, version: int) -> dict[str, Any]:
        item = record.to_json()
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
        return _attribute_values(item)

    def _read_account(self, account_id: str) -> tuple[AccountRecord | None, int | None]:
        """The entry and its version (None: absent, or an entry written before versions)."""
        response = self._dynamodb.get_item(
            TableName=self._table, Key=account_key(account_id), ConsistentRead=True
        )
        if "Item" not in response:
            return None, None
        item = response["Item"]
        return _record(item), int(item[VERSION]["N"]) if VERSION in item else None

    def write_account(
        self,
        account_id: str,
        change: Callable[[AccountRecord | None], AccountRecord | None],
        *,
        onboarding: tuple[str, OnboardingStatus | None] | None = None,
        also: Callable[[AccountRecord], list[dict[str, Any]]] | None = None,
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
            new = change(current)
            if new is None or new == current:
                return current
            if current is None:
                condition, values = "attribute_not_exists(pk)", {}
            elif version is None:
                condition, values = f"attribute_exists(pk) AND attribute_not_exists({VERSION})", {}
            else:
                condition, values = f"{VERSION} = :version", {":version": {"N": str(version)}}
            put: dict[str, Any] = {
                "TableName": self._table,
                "Item": self._account_item(new, (version or 0) + 1),
                "ConditionExpression": condition,
            }
            if values:
                put["ExpressionAttributeValues"] = values
            items: list[dict[str, Any]] = [{"Put": put}]
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

    def _onboarding_items(
        self, record: AccountRecord, onboarding_id: str, status: OnboardingStatus | None
    ) -> list[dict[str, Any]]:
        """The onboarding's item (its account, outcome) and its email guard, beside the account's entry."""
        stamp = now().isoformat()
        onboarding_fields: dict[str, Any] = {"accountId": record.account_id, "updatedAt": stamp}
        if status:
            onboarding_fields["status"] = status.value
        if record.failure:
            onboarding_fields["failure"] = record.failure
        expression, names, values = _set_expression(onboarding_fields)
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
                    "ExpressionAttributeValues": _attribute_values(
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
                ExpressionAttributeValues=_attribute_values({":at": stamp, ":by": who, ":one": 1}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return _record(response["Attributes"])

    def get_account(self, account_id: str) -> AccountRecord | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key=account_key(account_id), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return _record(response["Item"])

    def fail_onboarding(
        self, onboarding_id: str, execution_arn: str, error_name: str, message: str, *, attempt: int
    ) -> bool:
        """Record an onboarding's failure; True while this attempt's failure is not yet notified."""
        return self._record_failure(
            onboarding_key(onboarding_id),
            {"onboardingId": onboarding_id},
            execution_arn,
            error_name,
            message,
            attempt=attempt,
        )

    def _record_failure(
        self,
        key: dict[str, Any],
        identity: dict[str, str],
        execution_arn: str,
        error_name: str,
        message: str,
        *,
        attempt: int,
        keep: tuple[str, ...] = (),
    ) -> bool:
        """A workflow item's failure; True while this attempt's failure is not yet notified.

        ``keep``: fields of ``identity`` written only where the item has none yet.
        """
        stamp = now().isoformat()
        expression, names, values = _set_expression(
            {
                **identity,
                "executionArn": execution_arn,
                "status": OnboardingStatus.FAILED.value,
                "error": error_name,
                "failure": message,
                "failedAttempt": attempt,
                "updatedAt": stamp,
                "createdAt": stamp,
            },
            keep_first=("createdAt", *keep),
        )
        values[":attempt"] = {"N": str(attempt)}
        try:
            item = self._dynamodb.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=expression,
                # A late duplicate of an earlier attempt changes nothing.
                ConditionExpression="attribute_not_exists(failedAttempt) OR failedAttempt <= :attempt",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        notified = int(item["notifiedAttempt"]["N"]) if "notifiedAttempt" in item else -1
        return notified < attempt

    def failure_notified(self, onboarding_id: str, attempt: int) -> None:
        """Remember that the operators were told of this attempt's failure (after they were)."""
        self._notified(onboarding_key(onboarding_id), attempt)

    def _notified(self, key: dict[str, Any], attempt: int) -> None:
        self._dynamodb.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="SET notifiedAttempt = :attempt",
            ExpressionAttributeValues={":attempt": {"N": str(attempt)}},
        )

    def _conditional(self, write: Callable[[], Any]) -> bool:
        """Run a conditional write; False when its condition did not hold."""
        try:
            write()
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # -- offboardings --------------------------------------------------------

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
        expression, names, values = _set_expression(
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
                            "ExpressionAttributeValues": _attribute_values(
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

        def offboarding_done(_: AccountRecord) -> list[dict[str, Any]]:
            return [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": offboarding_key(offboarding_id),
                        "UpdateExpression": "SET #status = :done, outcome = :outcome, updatedAt = :at",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": _attribute_values(
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
        return _plain(response["Item"]) if "Item" in response else None

    def release_email(self, email: str, onboarding_id: str) -> bool:
        """Free an email that a failed onboarding claimed but never got an account for."""
        return self._conditional(
            lambda: self._dynamodb.delete_item(
                TableName=self._table,
                Key=email_key(email),
                ConditionExpression="onboardingId = :me AND attribute_not_exists(accountId)",
                ExpressionAttributeValues={":me": {"S": onboarding_id}},
            )
        )

    def accounts_of_client(
        self, client: str, project: str | None = None, *, limit: int = 100, start_key: dict | None = None
    ) -> tuple[list[AccountRecord], dict | None]:
        """One page of a client's accounts (optionally one project's), by Query on ``ByClient``."""
        return self.list_accounts(client=client, project=project, limit=limit, start_key=start_key)

    def list_accounts(
        self,
        *,
        client: str | None = None,
        project: str | None = None,
        status: str | None = None,
        limit: int = 100,
        start_key: dict | None = None,
    ) -> tuple[list[AccountRecord], dict | None]:
        """One page of accounts matching the filters, always by a Query on the index made for them."""
        if project and not client:
            raise ValueError("a project filter needs a client filter")
        values: dict[str, Any]
        if status:
            index, condition, values = (
                BY_STATUS_INDEX,
                "gsi2pk = :partition",
                {":partition": f"STATUS#{status}"},
            )
            if client:
                condition += " AND begins_with(gsi2sk, :prefix)"
                values[":prefix"] = f"{client}#{project}#" if project else f"{client}#"
        elif client:
            index, condition, values = (
                BY_CLIENT_INDEX,
                "gsi1pk = :partition",
                {":partition": f"CLIENT#{client}"},
            )
            if project:
                condition += " AND begins_with(gsi1sk, :prefix)"
                values[":prefix"] = f"{project}#"
        else:
            index, condition, values = ACCOUNTS_INDEX, "gsi3pk = :partition", {":partition": "ACCOUNT"}
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": _attribute_values(values),
            "Limit": limit,
        }
        if start_key:
            arguments["ExclusiveStartKey"] = start_key
        response = self._dynamodb.query(**arguments)
        return [_record(item) for item in response["Items"]], response.get("LastEvaluatedKey")

    def all_accounts(self) -> Iterator[AccountRecord]:
        """Every account, page by page (Query on ``Accounts``, up to 1 MB a page)."""
        start_key = None
        while True:
            records, start_key = self.list_accounts(limit=1000, start_key=start_key)
            yield from records
            if not start_key:
                return

    def onboardings(self, onboarding_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Onboarding items by ID, in one BatchGetItem per 100 (missing ones are left out)."""
        return self._items_by_id(onboarding_ids, onboarding_key, "onboardingId")

    def offboardings(self, offboarding_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Offboarding items by ID, like ``onboardings``."""
        return self._items_by_id(offboarding_ids, offboarding_key, "offboardingId")

    def _items_by_id(
        self, ids: list[str], key_of: Callable[[str], dict[str, Any]], id_field: str
    ) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 100):
            keys = [key_of(item_id) for item_id in ids[start : start + 100]]
            request = {self._table: {"Keys": keys}}
            while request:
                response = self._dynamodb.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table, []):
                    plain = _plain(item)
                    found[str(plain[id_field])] = plain
                request = response.get("UnprocessedKeys") or {}
        return found


_KEY_ATTRIBUTES = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "version")


def _record(item: Mapping[str, Any]) -> AccountRecord:
    plain = {name: value for name, value in _plain(item).items() if name not in _KEY_ATTRIBUTES}
    return AccountRecord.model_validate(plain)


def default_registry() -> Registry:
    """The registry named by the function's environment, through the process's DynamoDB client."""
    return Registry(aws.client("dynamodb"), Settings.from_environment().registry_table_name)


__all__ = [
    "ACCOUNTS_INDEX",
    "BY_CLIENT_INDEX",
    "BY_STATUS_INDEX",
    "AccountStatus",
    "Registry",
    "default_registry",
]
