"""Conditional writes of the registry, in one place: a whole account entry read-modify-written on its
version (no write undoes another), a single conditional write, a failure recorded once per attempt."""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.clock import now
from orgvend.models import OnboardingStatus
from orgvend.registry.items import (
    Item,
    plain,
    set_expression,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeysAndAttributesOutputTypeDef, KeysAndAttributesTypeDef


class Table:
    """The registry table, reached through a DynamoDB client passed in."""

    def __init__(self, dynamodb: "DynamoDBClient", table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def _record_failure(
        self,
        key: Item,
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
        expression, names, values = set_expression(
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

    def _notified(self, key: Item, attempt: int) -> None:
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

    def _items_by_id(
        self, ids: list[str], key_of: Callable[[str], Item], id_field: str
    ) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 100):
            keys = [key_of(item_id) for item_id in ids[start : start + 100]]
            # What is still to read: the first request, then what DynamoDB left unprocessed.
            request: Mapping[str, KeysAndAttributesTypeDef | KeysAndAttributesOutputTypeDef]
            request = {self._table: {"Keys": keys}}
            while request:
                response = self._dynamodb.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table, []):
                    fields = plain(item)
                    found[str(fields[id_field])] = fields
                request = response.get("UnprocessedKeys") or {}
        return found
