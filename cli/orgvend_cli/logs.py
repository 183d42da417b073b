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
from urllib.parse import urlparse

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from orgvend_cli.client import DEFAULT_REGION, NO_CREDENTIALS, CliError, is_local, profile_not_found

if TYPE_CHECKING:
    from mypy_boto3_logs.type_defs import ResultFieldTypeDef

QUERY = (
    "fields @timestamp, @message, @log | filter correlation_id = '{id}' or @message like '{id}' "
    "| sort @timestamp asc | limit 10000"
)


# The embedded AWS (moto) accepts any signature: it needs credentials only so that botocore signs at all.
EMBEDDED_AWS_CREDENTIALS = ("orgvend-local", "orgvend-local")
# Few and quick retries: a stopped `make run` or an unreachable endpoint is said at once.
LOGS_CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}
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


def logs_session(
    *, profile: str | None, region: str | None, endpoint_url: str | None
) -> boto3.session.Session:
    """The caller's AWS credentials; against the embedded AWS, stand-ins when there are none (as the
    local API takes unsigned requests), so `orgvend logs` works on `make run` with nothing exported."""
    local = endpoint_url is not None and is_local(urlparse(endpoint_url).hostname)
    try:
        session = botocore.session.Session(profile=profile)
        if local:  # never wait on the instance metadata service for credentials moto ignores
            resolver = session.get_component("credential_provider")
            for name in ("iam-role", "container-role"):
                resolver.remove(name)
        credentials = session.get_credentials()
        configured_region = session.get_config_variable("region")
    except ProfileNotFound as error:
        raise profile_not_found(error, profile) from None
    except BotoCoreError as error:
        raise CliError(f"cannot load AWS credentials: {error}") from None
    if credentials is None:
        if not local:
            raise CliError(NO_CREDENTIALS)
        session.set_credentials(*EMBEDDED_AWS_CREDENTIALS)
    return boto3.session.Session(
        botocore_session=session, region_name=region or configured_region or DEFAULT_REGION
    )


def onboarding_logs(
    onboarding_id: str,
    *,
    stack_name: str,
    since_hours: float,
    session: boto3.session.Session,
    endpoint_url: str | None,
) -> list[LogLine]:
    """Its lines, oldest first; CloudWatch Logs' failures as one CliError (exit 2), never a traceback."""
    where = endpoint_url or "AWS"
    try:
        logs = session.client("logs", endpoint_url=endpoint_url, config=LOGS_CLIENT_CONFIG)
        return _query(logs, onboarding_id, stack_name, since_hours)
    except ClientError as error:
        info = error.response.get("Error", {})
        raise CliError(
            f"CloudWatch Logs at {where} refused: {info.get('Code')}: {info.get('Message')}"
        ) from None
    except BotoCoreError as error:
        local = endpoint_url is not None and is_local(urlparse(endpoint_url).hostname)
        hint = " (is `make run` running? or pass --aws-endpoint-url)" if local else ""
        raise CliError(f"cannot read CloudWatch Logs at {where}: {error}{hint}") from None


def _query(logs: Any, onboarding_id: str, stack_name: str, since_hours: float) -> list[LogLine]:
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
