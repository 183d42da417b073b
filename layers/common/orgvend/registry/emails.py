"""Email guards: which onboarding owns an address (Organizations allows one account per email)."""

from typing import Any

from botocore.exceptions import ClientError

from orgvend.clock import now
from orgvend.errors import EmailAlreadyRegistered
from orgvend.models import Onboarding
from orgvend.registry.items import (
    attribute_values,
    email_claim_condition,
    email_key,
    plain,
)
from orgvend.registry.writes import Table


class Emails(Table):
    """The EMAIL# items."""

    def reclaim_email(self, onboarding: Onboarding) -> None:
        """Claim the onboarding's email again, before it creates an account: a failure report frees the
        email of an onboarding that created nothing, and a redrive of it must not create an account whose
        address another onboarding has claimed since (EmailAlreadyRegistered)."""
        item = {
            **email_key(onboarding.email),
            **attribute_values(
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
        return plain(response["Item"]) if "Item" in response else None

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
