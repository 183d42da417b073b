"""Onboardings: their items, their CreateAccount requests, their failures."""

from typing import Any

from botocore.exceptions import ClientError

from orgvend.clock import now
from orgvend.errors import EmailAlreadyRegistered
from orgvend.models import Onboarding, OnboardingStatus
from orgvend.registry.emails import Emails
from orgvend.registry.items import (
    attribute_values,
    create_request_key,
    email_claim_condition,
    email_key,
    lost_on_condition,
    onboarding_key,
    plain,
    set_expression,
)


class Onboardings(Emails):
    """The ONBOARDING# and CREATEREQUEST# items."""

    def open_onboarding(self, onboarding: Onboarding) -> None:
        """Claim the email for this onboarding and record it, atomically.

        Re-running the same onboarding (a retry or a redrive) succeeds and
        changes nothing that a later step wrote.
        """
        stamp = now().isoformat()
        expression, names, values = set_expression(
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
            **attribute_values(
                {"onboardingId": onboarding.onboarding_id, "email": onboarding.email, "createdAt": stamp}
            ),
        }
        if onboarding.account_id:
            email_guard["accountId"] = {"S": onboarding.account_id}
        claim = email_claim_condition(onboarding)
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": email_guard,
                            "ConditionExpression": claim["ConditionExpression"],
                            "ExpressionAttributeValues": claim["ExpressionAttributeValues"],
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

    def get_onboarding(self, onboarding_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key=onboarding_key(onboarding_id), ConsistentRead=True
        )
        return plain(response["Item"]) if "Item" in response else None

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
                            "ExpressionAttributeValues": attribute_values({":r": request_id, ":t": stamp}),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **create_request_key(request_id),
                                **attribute_values({"onboardingId": onboarding_id, "createdAt": stamp}),
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

    def failure_notified(self, onboarding_id: str, attempt: int) -> None:
        """Remember that the operators were told of this attempt's failure (after they were)."""
        self._notified(onboarding_key(onboarding_id), attempt)

    def onboardings(self, onboarding_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Onboarding items by ID, in one BatchGetItem per 100 (missing ones are left out)."""
        return self._items_by_id(onboarding_ids, onboarding_key, "onboardingId")
