"""`orgvend logs ONBOARDING_ID`: one onboarding's log lines, in order, from CloudWatch Logs.

Every function logs JSON through Powertools with the onboarding ID as its
correlation ID. A CloudWatch Logs Insights query over the stack's function log
groups (``/aws/lambda/<stack>-*``) finds them; against the embedded AWS the same
query runs on moto, whose Insights ignores ``filter``, so the lines are also
filtered here (the same condition, applied twice where AWS already did it).
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3

from orgvend_cli.client import CliError

if TYPE_CHECKING:
    from mypy_boto3_logs.type_defs import ResultFieldTypeDef

QUERY = (
    "fields @timestamp, @message, @log | filter correlation_id = '{id}' or @message like '{id}' "
    "| sort @timestamp asc | limit 10000"
)


@dataclass
class LogLine:
    timestamp: datetime
    function: str
    level: str
    message: str
    fields: dict[str, Any]


def log_groups(logs: Any, stack_name: str) -> list[str]:
    paginator = logs.get_paginator("describe_log_groups")
    prefix = f"/aws/lambda/{stack_name}-"
    return [
        group["logGroupName"]
        for page in paginator.paginate(logGroupNamePrefix=prefix)
        for group in page["logGroups"]
    ]


def _parse(row: list["ResultFieldTypeDef"]) -> tuple[str, str, str]:
    values = {field.get("field", ""): field.get("value", "") for field in row}
    return values.get("@timestamp", ""), values.get("@log", ""), values.get("@message", "")


def _timestamp(value: str) -> datetime:
    try:  # moto answers epoch milliseconds
        return datetime.fromtimestamp(float(value) / 1000, UTC)
    except ValueError:
        pass
    return datetime.fromisoformat(value.replace(" ", "T")).replace(tzinfo=UTC)


def onboarding_logs(
    onboarding_id: str,
    *,
    stack_name: str,
    since_hours: float,
    session: boto3.session.Session,
    endpoint_url: str | None,
) -> list[LogLine]:
    logs = session.client("logs", endpoint_url=endpoint_url)
    groups = log_groups(logs, stack_name)
    if not groups:
        raise CliError(
            f"no log groups /aws/lambda/{stack_name}-*: is the stack name right (--stack)?", exit_code=2
        )
    now = int(time.time())
    query_id = logs.start_query(
        logGroupNames=groups[:50],  # Insights' limit per query
        startTime=now - int(since_hours * 3600),
        endTime=now + 60,
        queryString=QUERY.format(id=onboarding_id.replace("'", "")),
    )["queryId"]
    deadline = time.monotonic() + 60
    while True:
        result = logs.get_query_results(queryId=query_id)
        if result["status"] in ("Complete", "Failed", "Cancelled", "Timeout"):
            break
        if time.monotonic() > deadline:
            raise CliError("the Logs Insights query did not finish within 60 s", exit_code=2)
        time.sleep(1)
    if result["status"] != "Complete":
        raise CliError(f"the Logs Insights query ended {result['status']}", exit_code=2)
    lines = []
    for row in result["results"]:
        stamp, group, message = _parse(row)
        try:
            fields = json.loads(message)
        except ValueError:
            fields = {"message": message}
        if not isinstance(fields, dict):
            fields = {"message": message}
        if fields.get("correlation_id") != onboarding_id and onboarding_id not in message:
            continue
        lines.append(
            LogLine(
                timestamp=_timestamp(stamp),
                function=str(fields.get("function_name") or group.rsplit("/", 1)[-1]),
                level=str(fields.get("level", "")),
                message=str(fields.get("message", "")),
                fields=fields,
            )
        )
    return sorted(lines, key=lambda line: line.timestamp)
