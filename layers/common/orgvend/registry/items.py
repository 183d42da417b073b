"""The registry table's items: keys, attribute conversion, and what a cancelled transaction says."""

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from orgvend.models import AccountRecord, Onboarding

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# An item, a key or expression values as the DynamoDB client takes and returns them.
Item = dict[str, "AttributeValueTypeDef"]


class Condition(TypedDict):
    """A write's condition, spread into a Put, Update or ConditionCheck of a transaction."""

    ConditionExpression: str
    ExpressionAttributeValues: Item


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
# What it keeps unless it sets it itself: the account's budget (RegisterAccount records the one CreateBudget
# set; the entries written before it, CREATING, leave an account adopted again its limit).
KEPT_UNLESS_GIVEN = ("monthly_budget_usd", "budget_alert_email")
BY_CLIENT_INDEX = "ByClient"
BY_STATUS_INDEX = "ByStatus"
ACCOUNTS_INDEX = "Accounts"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def account_key(account_id: str) -> Item:
    return {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}


def onboarding_key(onboarding_id: str) -> Item:
    return {"pk": {"S": f"ONBOARDING#{onboarding_id}"}, "sk": {"S": "ONBOARDING"}}


def offboarding_key(offboarding_id: str) -> Item:
    return {"pk": {"S": f"OFFBOARDING#{offboarding_id}"}, "sk": {"S": "OFFBOARDING"}}


def create_request_key(request_id: str) -> Item:
    return {"pk": {"S": f"CREATEREQUEST#{request_id}"}, "sk": {"S": "CREATEREQUEST"}}


def email_key(email: str) -> Item:
    # Organizations treats addresses case-insensitively: so does the guard.
    return {"pk": {"S": f"EMAIL#{email.lower()}"}, "sk": {"S": "EMAIL"}}


def cancelled_on(error: ClientError) -> list[int]:
    """The items of a cancelled transaction whose condition failed (empty for any other error)."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return []
    reasons = error.response.get("CancellationReasons") or []
    return [index for index, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]


def email_claim_condition(onboarding: Onboarding) -> Condition:
    """Who may claim an email: nobody holds it, or this onboarding does; an adoption may also take it
    over from an earlier onboarding of the very same account (adopted again, back in the scope)."""
    condition = "attribute_not_exists(pk) OR onboardingId = :me"
    values: Item = {":me": {"S": onboarding.onboarding_id}}
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


def _storable(value: Any) -> Any:
    """DynamoDB numbers are Decimals: a float of the JSON form (an amount such as 99.95) is stored as the
    Decimal it prints as."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def attribute_values(values: Mapping[str, Any]) -> Item:
    return {name: _serializer.serialize(_storable(value)) for name, value in values.items()}


def plain(item: Mapping[str, "AttributeValueTypeDef"]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def set_expression(
    fields: Mapping[str, Any], *, keep_first: tuple[str, ...] = ()
) -> tuple[str, dict[str, str], Item]:
    """An UpdateExpression that sets ``fields`` (``keep_first`` only when still absent)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts: list[str] = []
    for index, (field, value) in enumerate(fields.items()):
        names[f"#f{index}"] = field
        values[f":v{index}"] = value
        if field in keep_first:
            parts.append(f"#f{index} = if_not_exists(#f{index}, :v{index})")
        else:
            parts.append(f"#f{index} = :v{index}")
    return "SET " + ", ".join(parts), names, attribute_values(values)


KEY_ATTRIBUTES = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "version")


def record_of(item: Mapping[str, "AttributeValueTypeDef"]) -> AccountRecord:
    fields = {name: value for name, value in plain(item).items() if name not in KEY_ATTRIBUTES}
    return AccountRecord.model_validate(fields)
