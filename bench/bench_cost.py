"""What one onboarded account costs in AWS, from a real run on the embedded AWS; and the stack's idle cost.

Run: .venv/bin/python bench/bench_cost.py

Three onboardings through the local API: a first one (every handler imported: cold), a second
(warm; the per-account figure), and an adoption of an existing member account. For each:

- Step Functions: billable state transitions = state entries, retries included (AWS: "a
  state transition is counted each time a step of your workflow is executed", retries too);
  StateExited events are printed alongside, they are not billed separately.
- Lambda: invocations and GB-seconds (MemorySize from template.yaml, SAM Globals merged;
  in-handler durations from the in-process Lambda, each rounded up to 1 ms as AWS bills).
- DynamoDB: every request of orgvend's functions, through a botocore hook on
  ``orgvend.aws.session()``; read and write request units from the items' sizes (DynamoDB's
  item-size rules, the table as it is after the run): reads 4 KB units (eventually consistent
  half), writes 1 KB units, transactional ones double, each GSI an item is in one write more.
- SNS publishes, EventBridge PutEvents entries, the API Gateway request, X-Ray traces and the
  log bytes the functions wrote (CloudWatch Logs ingestion).

Prices: us-east-1 list prices in PRICES below, free tiers ignored. Exits 1 if a run fails.
"""

import copy
import json
import math
import os
import sys
import time
from collections import Counter
from typing import Any

from benchkit import (
    ApiCalls,
    execution_arn,
    history,
    history_figures,
    item_size,
    moto_gaps,
    say,
    start_embedded,
)

# us-east-1 list prices, on demand, without free tiers. Assumed current on 2026-11-28: taken from the
# AWS pricing pages named here as last published (DynamoDB on-demand after the November 2024
# reduction); not re-checked online on that date.
PRICES_DATE = "2026-11-28"
PRICES: dict[str, tuple[float, str]] = {
    "sfn_transition": (
        0.025 / 1_000,
        "aws.amazon.com/step-functions/pricing: Standard, $0.025 per 1,000 transitions",
    ),
    "lambda_gb_second": (0.0000133334, "aws.amazon.com/lambda/pricing: arm64, $0.0000133334 per GB-s"),
    "lambda_request": (0.20 / 1_000_000, "aws.amazon.com/lambda/pricing: $0.20 per 1M requests"),
    "dynamodb_wru": (0.625 / 1_000_000, "aws.amazon.com/dynamodb/pricing/on-demand: $0.625 per 1M WRU"),
    "dynamodb_rru": (0.125 / 1_000_000, "aws.amazon.com/dynamodb/pricing/on-demand: $0.125 per 1M RRU"),
    "sns_publish": (0.50 / 1_000_000, "aws.amazon.com/sns/pricing: $0.50 per 1M publishes"),
    "sns_email": (2.00 / 100_000, "aws.amazon.com/sns/pricing: email, $2.00 per 100,000 deliveries"),
    "eventbridge_event": (
        1.00 / 1_000_000,
        "aws.amazon.com/eventbridge/pricing: custom events, $1.00 per 1M",
    ),
    "apigateway_request": (3.50 / 1_000_000, "aws.amazon.com/api-gateway/pricing: REST, $3.50 per 1M"),
    "xray_trace": (5.00 / 1_000_000, "aws.amazon.com/xray/pricing: $5.00 per 1M traces recorded"),
    "logs_ingested_gb": (0.50, "aws.amazon.com/cloudwatch/pricing: logs, $0.50 per GB ingested"),
    "logs_stored_gb_month": (0.03, "aws.amazon.com/cloudwatch/pricing: logs, $0.03 per GB-month archived"),
    "dynamodb_storage_gb_month": (0.25, "aws.amazon.com/dynamodb/pricing/on-demand: $0.25 per GB-month"),
    "dynamodb_pitr_gb_month": (0.20, "aws.amazon.com/dynamodb/pricing/on-demand: PITR, $0.20 per GB-month"),
    "scheduler_invocation": (1.00 / 1_000_000, "aws.amazon.com/eventbridge/pricing: Scheduler, $1.00 per 1M"),
    "kms_request": (0.03 / 10_000, "aws.amazon.com/kms/pricing: $0.03 per 10,000 requests"),
    "kms_key_month": (1.00, "aws.amazon.com/kms/pricing: $1.00 per customer managed key per month"),
    "metric_month": (0.30, "aws.amazon.com/cloudwatch/pricing: $0.30 per custom metric per month"),
}
# Per invocation, AWS adds its own START, END and REPORT log records (JSON log format): about 0.5 KB.
PLATFORM_LOG_BYTES = 500
# API Gateway (tracing on) and the state machine (tracing on): up to two traces per onboarding.
TRACES_PER_ONBOARDING = 2


def price(name: str) -> float:
    return PRICES[name][0]


# --------------------------------------------------------------------------- DynamoDB units


def key_of(item_or_key: dict[str, Any], table: str, keys: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return (table, *(str(item_or_key[name]) for name in keys[table]))


class CapacityModel:
    """Request units of each DynamoDB call, from the items' sizes after the run."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]], keys: dict[str, tuple[str, ...]]) -> None:
        self.keys = keys
        self.sizes = {
            key_of(item, table, keys): item_size(item) for table, items in tables.items() for item in items
        }
        self.indexed = {
            key_of(item, table, keys): sum(1 for name in ("gsi1pk", "gsi2pk", "gsi3pk") if name in item)
            for table, items in tables.items()
            for item in items
        }

    def _size(self, table: str, key: dict[str, Any], fallback: dict[str, Any] | None = None) -> int:
        return self.sizes.get(key_of(key, table, self.keys), item_size(fallback or key))

    def _write(self, table: str, key: dict[str, Any], item: dict[str, Any] | None, factor: int) -> float:
        size = self._size(table, key, item)
        units = max(1, math.ceil(size / 1024))
        indexes = self.indexed.get(key_of(key, table, self.keys), 0)
        return units * factor + units * indexes

    def _read(self, table: str, key: dict[str, Any], consistent: bool, factor: float = 1.0) -> float:
        units = max(1, math.ceil(self._size(table, key) / 4096))
        return units * (1.0 if consistent else 0.5) * factor

    def units(
        self, operation: str, params: dict[str, Any], response: dict[str, Any] | None
    ) -> tuple[float, float]:
        """(read units, write units) of one call."""
        table = params.get("TableName", "")
        if operation == "GetItem":
            return self._read(table, params["Key"], bool(params.get("ConsistentRead"))), 0.0
        if operation == "Query":
            size = sum(item_size(item) for item in (response or {}).get("Items", []))
            return max(1, math.ceil(size / 4096)) * (1.0 if params.get("ConsistentRead") else 0.5), 0.0
        if operation == "BatchGetItem":
            return sum(
                self._read(name, key, bool(request.get("ConsistentRead")))
                for name, request in params["RequestItems"].items()
                for key in request["Keys"]
            ), 0.0
        if operation == "PutItem":
            return 0.0, self._write(table, self._key(table, params["Item"]), params["Item"], 1)
        if operation in {"UpdateItem", "DeleteItem"}:
            return 0.0, self._write(table, params["Key"], None, 1)
        if operation == "TransactWriteItems":
            total = 0.0
            for entry in params["TransactItems"]:
                ((_kind, body),) = entry.items()
                key = body.get("Key") or self._key(body["TableName"], body["Item"])
                total += self._write(body["TableName"], key, body.get("Item"), 2)
            return 0.0, total
        if operation == "TransactGetItems":
            return sum(
                self._read(e["Get"]["TableName"], e["Get"]["Key"], True, 2) for e in params["TransactItems"]
            ), 0.0
        if operation == "BatchWriteItem":
            return 0.0, sum(
                self._write(
                    name,
                    request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"],
                    None,
                    1,
                )
                for name, requests in params["RequestItems"].items()
                for request in requests
            )
        return 0.0, 0.0

    def _key(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.keys[table]}


# --------------------------------------------------------------------------- one run


def onboard(runtime: Any, path: str, body: dict[str, Any], calls: ApiCalls) -> dict[str, Any]:
    """POST one request, wait for its execution; what it used."""
    import urllib3  # noqa: PLC0415

    calls.clear()
    mark = len(runtime.lambdas.invocations)
    since = int(time.time() * 1000) - 1
    response = urllib3.PoolManager().request(
        "POST",
        runtime.deployment.outputs["ApiUrl"] + path,
        body=json.dumps(body),
        headers={
            "content-type": "application/json",
            "Idempotency-Key": f"cost-{body.get('email', body.get('accountId'))}",
        },
    )
    answer = json.loads(response.data)
    assert response.status == 202, answer
    arn = execution_arn(runtime, answer["onboardingId"])
    sfn = runtime.client("stepfunctions")
    while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.05)
    time.sleep(0.5)  # the status-change event's reactions (none on success) and the last log lines
    return {
        "status": execution["status"],
        "figures": history_figures(history(runtime, arn)),
        "invocations": runtime.lambdas.invocations[mark:],
        "calls": list(calls.calls),
        "responses": list(calls.responses),
        "since": since,
        "api_requests": 1,
    }


def log_bytes(runtime: Any, since: int, functions: set[str]) -> int:
    logs = runtime.client("logs")
    total = 0
    for function in functions:
        paginator = logs.get_paginator("filter_log_events")
        for page in paginator.paginate(logGroupName=f"/aws/lambda/{function}", startTime=since):
            total += sum(len(event["message"].encode()) + 1 for event in page["events"])
    return total


def cost_lines(
    run: dict[str, Any], memory: dict[str, int], model: CapacityModel, log_total: int, kms_requests: int
) -> list[tuple[str, float, str, float]]:
    """(what, quantity, unit, dollars) for one onboarding."""
    figures = run["figures"]
    gb_seconds = sum(
        math.ceil(seconds * 1000) / 1000 * memory[name] / 1024 for name, seconds, _ in run["invocations"]
    )
    responses = {id(params): parsed for _, _, params, parsed in run["responses"]}
    reads = writes = 0.0
    for service, operation, params in run["calls"]:
        if service == "dynamodb":
            read, write = model.units(operation, params, responses.get(id(params)))
            reads, writes = reads + read, writes + write
    counts = Counter(f"{service}.{operation}" for service, operation, _ in run["calls"])
    events = sum(len(params.get("Entries", [])) for service, op, params in run["calls"] if op == "PutEvents")
    publishes = counts["sns.Publish"]
    invocations = len(run["invocations"])
    log_gb = (log_total + PLATFORM_LOG_BYTES * invocations) / 1024**3
    return [
        (
            "Step Functions transitions",
            figures.billable_transitions,
            "transitions",
            figures.billable_transitions * price("sfn_transition"),
        ),
        ("Lambda requests", invocations, "requests", invocations * price("lambda_request")),
        ("Lambda duration", gb_seconds, "GB-s", gb_seconds * price("lambda_gb_second")),
        ("DynamoDB reads", reads, "RRU", reads * price("dynamodb_rru")),
        ("DynamoDB writes", writes, "WRU", writes * price("dynamodb_wru")),
        ("SNS publishes", publishes, "publishes", publishes * price("sns_publish")),
        ("EventBridge custom events", events, "events", events * price("eventbridge_event")),
        (
            "API Gateway REST requests",
            run["api_requests"],
            "requests",
            run["api_requests"] * price("apigateway_request"),
        ),
        ("X-Ray traces", TRACES_PER_ONBOARDING, "traces", TRACES_PER_ONBOARDING * price("xray_trace")),
        ("KMS requests (SNS SSE, at most)", kms_requests, "requests", kms_requests * price("kms_request")),
        ("CloudWatch Logs ingestion", log_gb * 1024**2, "KB", log_gb * price("logs_ingested_gb")),
    ]


# --------------------------------------------------------------------------- idle cost


def transformed_resources(template: Any) -> dict[str, dict[str, Any]]:
    """The CloudFormation resources the SAM transform makes of template.yaml (offline)."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    body = copy.deepcopy(template.body)
    for resource in body["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(
            properties.get("DefinitionUri"), str
        ):
            properties["Definition"] = json.loads(
                (template.root / properties.pop("DefinitionUri")).read_text()
            )
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://bench-bucket/{properties[key]}"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(body, {}, NoManagedPolicies())["Resources"]


# What each resource type bills when nothing happens (nothing by the hour unless priced below).
IDLE: dict[str, str] = {
    "AWS::Lambda::Function": "per request and GB-s; code storage free up to 75 GB",
    "AWS::Lambda::LayerVersion": "counts toward the free 75 GB code storage",
    "AWS::Lambda::Permission": "configuration",
    "AWS::Lambda::EventInvokeConfig": "configuration",
    "AWS::IAM::Role": "IAM is free",
    "AWS::StepFunctions::StateMachine": "Standard: per state transition",
    "AWS::DynamoDB::Table": "on-demand: per request; storage $0.25/GB-month, PITR $0.20/GB-month (below)",
    "AWS::SNS::Topic": "per publish and delivery (+ KMS requests for its SSE key)",
    "AWS::SNS::Subscription": "email deliveries $2.00 per 100,000",
    "AWS::SQS::Queue": "per request (the DLQ: only when something fails)",
    "AWS::SQS::QueuePolicy": "configuration",
    "AWS::Events::Rule": "AWS service events on the default bus are free; custom events $1/M",
    "AWS::Scheduler::Schedule": "per invocation ($1/M after 14M free): the daily reconciliation (below)",
    "AWS::ApiGateway::RestApi": "per request",
    "AWS::ApiGateway::Deployment": "configuration",
    "AWS::ApiGateway::Stage": "nothing by the hour unless CacheClusterEnabled",
    "AWS::Logs::LogGroup": "ingestion $0.50/GB, storage $0.03/GB-month of what the retention keeps",
    "AWS::KMS::Key": "customer managed key: $1.00/month, +$1 at each of the first two rotations",
    "AWS::KMS::Alias": "free",
    "AWS::CloudWatch::Alarm": "$0.10 per standard-resolution metric per month (10 free)",
    "AWS::CloudWatch::Dashboard": "$3.00 per dashboard per month (3 free)",
}


def idle_monthly(resource: dict[str, Any]) -> float:
    """Fixed monthly list price of one resource (free tiers ignored)."""
    kind, properties = resource["Type"], resource.get("Properties", {})
    if kind == "AWS::KMS::Key":
        return price("kms_key_month")
    if kind == "AWS::CloudWatch::Alarm":
        metrics = [m for m in properties.get("Metrics", []) if "MetricStat" in m] or [properties]
        return 0.10 * len(metrics)
    if kind == "AWS::CloudWatch::Dashboard":
        return 3.00
    if kind == "AWS::ApiGateway::Stage" and properties.get("CacheClusterEnabled"):
        return math.nan  # priced by cache size and hour: flag it
    return 0.0


def main() -> int:
    runtime = start_embedded(creation_seconds=2.0)
    template = runtime.template
    assert template is not None
    functions = template.enabled_resources("AWS::Serverless::Function")
    memory = {template.physical_name(lid): int(f["Properties"]["MemorySize"]) for lid, f in functions.items()}
    registry_table = runtime.deployment.outputs["RegistryTableName"]
    idempotency_table = template.physical_name("IdempotencyTable")
    calls = ApiCalls(keep_responses=("Query",)).install()
    poll = template.parameters["PollIntervalSeconds"]
    say(f"prices: us-east-1 list prices assumed current on {PRICES_DATE} (free tiers ignored):")
    for name, (value, source) in PRICES.items():
        say(f"  {name:<26} {value:.10g}  ({source})")
    say(
        f"memory (template.yaml, Globals merged): {sorted(set(memory.values()))} MB; local PollIntervalSeconds={poll}, creation latency 2 s\n"
    )

    runs = {
        "cold onboarding": onboard(
            runtime, "/accounts", {"client": "acme", "project": "web", "email": "aws+cold@example.com"}, calls
        ),
        "warm onboarding": onboard(
            runtime, "/accounts", {"client": "acme", "project": "api", "email": "aws+warm@example.com"}, calls
        ),
    }
    organizations = runtime.client("organizations")
    request = organizations.create_account(Email="aws+legacy@example.com", AccountName="legacy")[
        "CreateAccountStatus"
    ]["Id"]
    while (
        status := organizations.describe_create_account_status(CreateAccountRequestId=request)[
            "CreateAccountStatus"
        ]
    )["State"] == "IN_PROGRESS":
        time.sleep(0.2)
    runs["adoption"] = onboard(
        runtime,
        "/accounts/adopt",
        {"accountId": status["AccountId"], "client": "acme", "project": "legacy"},
        calls,
    )
    failed = [label for label, run in runs.items() if run["status"] != "SUCCEEDED"]

    # Item sizes as the tables hold them after the runs (the bench's own client: not counted).
    dynamodb = runtime.client("dynamodb")
    tables = {
        name: [
            item for page in dynamodb.get_paginator("scan").paginate(TableName=name) for item in page["Items"]
        ]
        for name in (registry_table, idempotency_table)
    }
    model = CapacityModel(tables, {registry_table: ("pk", "sk"), idempotency_table: ("id",)})
    account_sizes = [
        item_size(item) for item in tables[registry_table] if item["pk"]["S"].startswith("ACCOUNT#")
    ]

    # An encrypted topic: SNS asks KMS for a data key to publish and decrypts to deliver (at most 2 per message).
    topic = template.resources["OperatorTopic"].get("Properties", {})
    kms_requests = 2 if topic.get("KmsMasterKeyId") else 0
    totals: dict[str, float] = {}
    for label, run in runs.items():
        figures = run["figures"]
        invoked = {name for name, _, _ in run["invocations"]}
        lines = cost_lines(run, memory, model, log_bytes(runtime, run["since"], invoked), kms_requests)
        totals[label] = sum(line[3] for line in lines)
        entered = dict(figures.entered)
        say(f"{label}: {run['status']}")
        say(
            f"  states entered {figures.entries}, exited {figures.exited}, retries {figures.retries}: "
            f"billable transitions {figures.billable_transitions}"
        )
        say(f"    entries per state: {entered}")
        say(
            f"  Lambda: {len(run['invocations'])} invocations: "
            + ", ".join(f"{n.removeprefix('orgvend-')} {s * 1000:.0f} ms" for n, s, _ in run["invocations"])
        )
        counts = Counter(f"{service}.{operation}" for service, operation, _ in run["calls"])
        say(f"  AWS API calls of the functions: {dict(sorted(counts.items()))}")
        say(f"  {'':<30}{'quantity':>12} {'unit':<12}{'USD':>12}")
        for what, quantity, unit, dollars in lines:
            say(f"  {what:<30}{quantity:>12.3f} {unit:<12}{dollars:>12.8f}")
        say(f"  {'total':<30}{'':>25}{totals[label]:>12.8f}\n")

    warm = runs["warm onboarding"]
    poll_loop = warm["figures"].entered["WaitForAccountCreation"]
    check_ms = [s for n, s, _ in warm["invocations"] if n.endswith("CheckAccountCreationFunction")]
    per_poll = (
        3 * price("sfn_transition")
        + price("lambda_request")
        + (math.ceil(max(check_ms) * 1000) / 1000 * 256 / 1024 * price("lambda_gb_second"))
    )
    say(
        f"per onboarded account (warm run): ${totals['warm onboarding']:.6f}; "
        f"{poll_loop} poll(s) in this run at P={poll} s, each further poll of a slower creation "
        f"${per_poll:.8f} (3 transitions + 1 CheckAccountCreation invocation); adoption ${totals['adoption']:.6f}"
    )
    say(
        f"  per 1,000 accounts: ${totals['warm onboarding'] * 1000:.2f}; the operator email, if subscribed: +${price('sns_email'):.5f} each\n"
    )

    # ------------------------------------------------------------------ idle
    resources = transformed_resources(template)
    types = Counter(resource["Type"] for resource in resources.values())
    say(
        "idle monthly cost by resource type (SAM-transformed template.yaml; list prices, free tiers ignored):"
    )
    unknown = [kind for kind in types if kind not in IDLE]
    by_type = {kind: 0.0 for kind in types}
    for resource in resources.values():
        by_type[resource["Type"]] += idle_monthly(resource)
    fixed = sum(value for value in by_type.values() if not math.isnan(value))
    for kind, count in sorted(types.items()):
        say(
            f"  {kind:<36}{count:>3}  ${by_type[kind]:>5.2f}  {IDLE.get(kind, 'UNKNOWN: not in this benchmark table')}"
        )

    # Storage-based charges at 10,000 accounts, from the measured account item size.
    account_bytes = sum(account_sizes) / max(1, len(account_sizes))
    registry_gb = 10_000 * (account_bytes + 100) / 1024**3  # DynamoDB adds 100 bytes of overhead per item
    indexes_gb = 3 * registry_gb  # three GSIs with ALL projection
    storage = (registry_gb + indexes_gb) * price("dynamodb_storage_gb_month") + registry_gb * price(
        "dynamodb_pitr_gb_month"
    )
    say(
        f"  storage at 10,000 accounts ({account_bytes:.0f} B per account item, three ALL-projection GSIs): "
        f"{(registry_gb + indexes_gb) * 1024:.1f} MB -> ${storage:.4f}/month (table + indexes + PITR)"
    )
    # The scheduled reconciliation, daily by default: one run of the function, measured.
    mark = len(runtime.lambdas.invocations)
    runtime.client("lambda").invoke(
        FunctionName=template.physical_name("ReconcileRegistryFunction"), Payload=b"{}"
    )
    [(name, seconds, errored)] = runtime.lambdas.invocations[mark:]
    members = sum(len(page["Accounts"]) for page in organizations.get_paginator("list_accounts").paginate())
    reconcile = 30 * (
        price("lambda_request")
        + math.ceil(seconds * 1000) / 1000 * memory[name] / 1024 * price("lambda_gb_second")
        + price("scheduler_invocation")
    )
    say(
        f"  daily reconciliation (ReconcileRegistry, {memory[name]} MB): {seconds * 1000:.0f} ms here "
        f"({members} accounts{', errored' if errored else ''}) -> ${reconcile:.6f}/month; it grows with the organization"
    )
    say(
        "  CloudWatch: Powertools EMF metrics are custom metrics, $0.30 per metric-month prorated by the hour "
        "they are published: none while idle. Logs stored: $0.03/GB-month for the 90-day retention."
    )
    idle_total = fixed + storage + reconcile
    cloudwatch = by_type.get("AWS::CloudWatch::Alarm", 0.0) + by_type.get("AWS::CloudWatch::Dashboard", 0.0)
    say(
        f"fixed monthly cost when idle: ${fixed:.2f} (KMS key ${by_type.get('AWS::KMS::Key', 0.0):.2f}, "
        f"CloudWatch alarms and dashboard ${cloudwatch:.2f}: $0 within CloudWatch's always-free 10 alarm "
        f"metrics and 3 dashboards if the account uses no others); ${idle_total:.4f} with 10,000 accounts "
        f"stored and the daily reconciliation\n"
    )

    say(moto_gaps())
    calls.uninstall()
    problems = failed + [f"unknown resource type {t}" for t in unknown]
    say(
        f"SUMMARY: cost per onboarded account ${totals['warm onboarding']:.6f} warm "
        f"({warm['figures'].billable_transitions} transitions, {len(warm['invocations'])} Lambda invocations), "
        f"cold ${totals['cold onboarding']:.6f}, adoption ${totals['adoption']:.6f}; idle ${fixed:.2f}/month fixed "
        f"(${idle_total:.4f} with 10,000 accounts stored): {'OK' if not problems else 'FAILED: ' + '; '.join(problems)}"
    )
    runtime.stop()
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
