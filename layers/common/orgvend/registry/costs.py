"""The costs report's reads and its cache in the registry.

``COSTS#<month>`` / ``ANSWER``: a month's Cost Explorer answer as it came, before the join (so that a
change in the registry shows at once in the next report): whether it is estimated, when it was retrieved,
and each account's amounts, as zlib-compressed JSON. A large organization's answer is split, so that no
item nears DynamoDB's 400 KB: the first ``PART_LINES`` accounts in the answer's item, the others in
``PART#<retrievedAt>#<n>`` items of the same partition, written before the answer's item that names them
(a reader never finds an answer whose parts are missing). ``expiresAt`` (the table's TTL attribute) is
when the answer stops being used; DynamoDB deletes expired items late, so a reader checks it too.

``COSTS#<month>`` / ``QUERY``: who is asking Cost Explorer for the month right now (a short lease), so
that a burst of reports waits for one query instead of making one each.

The accounts a report joins are read with a Query on the ``Accounts`` index (or ``ByClient`` for one
client), projected to the few attributes a report shows.
"""

import json
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orgvend.costs.models import AccountOwner, CostAnswer, CostLine
from orgvend.registry.items import ACCOUNTS_INDEX, BY_CLIENT_INDEX, Item, attribute_values, plain
from orgvend.registry.writes import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

COSTS_PREFIX = "COSTS#"
# Accounts per item: about 25 bytes each once compressed, so an item stays far below 400 KB.
PART_LINES = 4000
_OWNER_ATTRIBUTES = {
    "#a": "accountId",
    "#n": "accountName",
    "#c": "client",
    "#p": "project",
    "#s": "status",
    "#o": "offboardedAt",
}


def _key(month: str, sort_key: str) -> Item:
    return {"pk": {"S": f"{COSTS_PREFIX}{month}"}, "sk": {"S": sort_key}}


def _packed(lines: list[CostLine]) -> bytes:
    rows = [[line.account_id, str(line.unblended), str(line.amortized), line.name] for line in lines]
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode("utf-8"), 9)


def _unpacked(data: bytes) -> list[CostLine]:
    return [
        CostLine(account_id=account_id, unblended=unblended, amortized=amortized, name=name)
        for account_id, unblended, amortized, name in json.loads(zlib.decompress(data))
    ]


class CostAnswers(Table):
    """Cost Explorer's answers, per month, and the accounts a report joins them with."""

    def save_cost_answer(self, answer: CostAnswer, expires_at: datetime | None) -> None:
        """Keep ``answer`` until ``expires_at`` (None: for good)."""
        chunks = [
            answer.lines[start : start + PART_LINES] for start in range(0, len(answer.lines), PART_LINES)
        ]
        first, rest = (chunks[0] if chunks else []), chunks[1:]
        stamp = answer.retrieved_at.isoformat()
        expiry: dict[str, Any] = {"expiresAt": int(expires_at.timestamp())} if expires_at else {}
        for number, chunk in enumerate(rest, start=1):
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **_key(answer.month, f"PART#{stamp}#{number:04d}"),
                    "lines": {"B": _packed(chunk)},
                    **attribute_values(expiry),
                },
            )
        fields = {
            "estimated": answer.estimated,
            "unit": answer.unit,
            "retrievedAt": stamp,
            "pages": answer.pages,
            "parts": len(rest),
            **expiry,
        }
        self._dynamodb.put_item(
            TableName=self._table,
            Item={**_key(answer.month, "ANSWER"), "lines": {"B": _packed(first)}, **attribute_values(fields)},
        )

    def cost_answer(self, month: str, at: datetime) -> CostAnswer | None:
        """The month's kept answer, unless there is none or it expired before ``at``."""
        item = self._dynamodb.get_item(TableName=self._table, Key=_key(month, "ANSWER")).get("Item")
        if item is None:
            return None
        head = plain({name: value for name, value in item.items() if name != "lines"})
        if "expiresAt" in head and int(head["expiresAt"]) <= at.timestamp():
            return None
        lines = _unpacked(item["lines"]["B"])
        parts = int(head.get("parts", 0))
        if parts:
            keys = [f"PART#{head['retrievedAt']}#{number:04d}" for number in range(1, parts + 1)]
            found = self._items_by_id(keys, lambda sort_key: _key(month, sort_key), "sk")
            if len(found) < parts:
                return None  # a part is gone (expired, deleted): ask Cost Explorer again
            for sort_key in keys:
                lines += _unpacked(bytes(found[sort_key]["lines"]))
        return CostAnswer(
            month=month,
            estimated=bool(head["estimated"]),
            unit=str(head.get("unit", "USD")),
            lines=lines,
            retrieved_at=datetime.fromisoformat(str(head["retrievedAt"])),
            pages=int(head.get("pages", 0)),
        )

    def claim_cost_query(self, month: str, until: datetime, at: datetime) -> bool:
        """Take the month's query lease until ``until``: False while another report holds an unexpired one."""
        return self._conditional(
            lambda: self._dynamodb.put_item(
                TableName=self._table,
                Item={**_key(month, "QUERY"), **attribute_values({"expiresAt": int(until.timestamp())})},
                ConditionExpression="attribute_not_exists(pk) OR expiresAt <= :now",
                ExpressionAttributeValues=attribute_values({":now": int(at.timestamp())}),
            )
        )

    def release_cost_query(self, month: str, at: datetime) -> None:
        """Let the lease go (it expires now: the next report that finds no answer may ask)."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item={**_key(month, "QUERY"), **attribute_values({"expiresAt": int(at.timestamp())})},
        )

    def account_owners(self, client: str | None = None) -> Iterator[AccountOwner]:
        """Every account (of ``client``), projected to what a report shows: a Query, page by page."""
        index, key, partition = (
            (BY_CLIENT_INDEX, "gsi1pk", f"CLIENT#{client}")
            if client
            else (ACCOUNTS_INDEX, "gsi3pk", "ACCOUNT")
        )
        arguments: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": f"{key} = :partition",
            "ExpressionAttributeValues": attribute_values({":partition": partition}),
            "ProjectionExpression": ", ".join(_OWNER_ATTRIBUTES),
            "ExpressionAttributeNames": _OWNER_ATTRIBUTES,
        }
        while True:
            response = self._dynamodb.query(**arguments)
            for item in response["Items"]:
                yield AccountOwner.model_validate(plain(item))
            if "LastEvaluatedKey" not in response:
                return
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
