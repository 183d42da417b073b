"""The costs report's resources: the report bucket, its policy, the monthly schedule, and the grants of
the two functions that read Cost Explorer (GET /costs and the monthly report)."""

from typing import Any

import pytest
from template_support import (
    Intrinsics,
    as_list,
    get_att_target,
    inline_statements,
    ref_target,
    resources_of_type,
    role_of_function,
    statement_actions,
)

from orgvend.costs.budgets import BUDGET_NAME_PREFIX
from orgvend.reactions.report_monthly_costs import REPORT_PREFIX, report_key
from orgvend.registry.costs import COSTS_PREFIX

COST_READERS = ("ApiFunction", "ReportMonthlyCostsFunction")


@pytest.fixture(scope="module")
def bucket(cfn: dict[str, Any]) -> dict[str, Any]:
    (bucket_id,) = resources_of_type(cfn, "AWS::S3::Bucket")
    assert bucket_id == "CostReportBucket"
    return dict(cfn["Resources"][bucket_id])


def statements_of(cfn: dict[str, Any], function_id: str, intrinsics: Intrinsics) -> list[dict[str, Any]]:
    return inline_statements(cfn["Resources"][role_of_function(cfn, function_id)], intrinsics)


def test_the_bucket_is_encrypted_versioned_and_kept(bucket: dict[str, Any]) -> None:
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket.get("DeletionPolicy") == bucket.get("UpdateReplacePolicy") == "Retain"


def test_the_bucket_is_never_public(bucket: dict[str, Any]) -> None:
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_the_bucket_lets_replaced_reports_expire_and_keeps_the_current_ones(bucket: dict[str, Any]) -> None:
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules and all(rule["Status"] == "Enabled" for rule in rules)
    assert any(int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"]) > 0 for rule in rules)
    assert any("AbortIncompleteMultipartUpload" in rule for rule in rules)
    # A month's current report is never expired: the invoices of that month refer to it.
    assert not any("ExpirationInDays" in rule or "ExpirationDate" in rule for rule in rules)


def test_the_bucket_refuses_every_request_without_tls(cfn: dict[str, Any], intrinsics: Intrinsics) -> None:
    (policy_id,) = resources_of_type(cfn, "AWS::S3::BucketPolicy")
    properties = cfn["Resources"][policy_id]["Properties"]
    assert ref_target(properties["Bucket"]) == "CostReportBucket"
    statements = properties["PolicyDocument"]["Statement"]
    tls = [
        statement
        for statement in statements
        if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(tls) == 1
    (statement,) = tls
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    bucket_arn = intrinsics.get_att("CostReportBucket", "Arn")
    assert {intrinsics.resolve(resource) for resource in as_list(statement["Resource"])} == {
        bucket_arn,
        f"{bucket_arn}/*",
    }


def test_the_monthly_report_runs_on_the_cost_report_schedule(sam_template: dict[str, Any]) -> None:
    function = sam_template["Resources"]["ReportMonthlyCostsFunction"]["Properties"]
    (event,) = function["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "CostReportSchedule"}
    assert event["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert get_att_target(event["Properties"]["DeadLetterConfig"]["Arn"]) == ("EventDeadLetterQueue", "Arn")
    # The 3rd of each month, when Cost Explorer has settled the previous month.
    assert sam_template["Parameters"]["CostReportSchedule"]["Default"] == "cron(0 6 3 * ? *)"
    assert function["Environment"]["Variables"]["COST_REPORT_BUCKET_NAME"] == {"Ref": "CostReportBucket"}


def test_the_report_writes_only_the_month_objects_of_its_bucket(
    cfn: dict[str, Any], intrinsics: Intrinsics
) -> None:
    writes = [
        statement
        for statement in statements_of(cfn, "ReportMonthlyCostsFunction", intrinsics)
        if any(action.startswith("s3:") for action in statement_actions(statement))
    ]
    assert [statement_actions(statement) for statement in writes] == [["s3:PutObject"]]
    bucket_arn = intrinsics.get_att("CostReportBucket", "Arn")
    assert as_list(writes[0]["Resource"]) == [f"{bucket_arn}/{REPORT_PREFIX}*"]
    assert report_key("2026-11") == f"{REPORT_PREFIX}2026-11.csv"


@pytest.mark.parametrize("function_id", COST_READERS)
def test_cost_readers_query_cost_explorer_and_read_only_orgvends_budgets(
    cfn: dict[str, Any], intrinsics: Intrinsics, function_id: str
) -> None:
    statements = statements_of(cfn, function_id, intrinsics)
    cost_explorer = [s for s in statements if any(a.startswith("ce:") for a in statement_actions(s))]
    assert [(statement_actions(s), as_list(s["Resource"])) for s in cost_explorer] == [
        (["ce:GetCostAndUsage"], ["*"])
    ]
    budgets = [s for s in statements if any(a.startswith("budgets:") for a in statement_actions(s))]
    # The API also sets a budget's limit (PATCH /accounts/{accountId}, orgvend.budgets); the report only reads.
    modifies = ["budgets:ModifyBudget"] if function_id == "ApiFunction" else []
    assert [statement_actions(s) for s in budgets] == [["budgets:ViewBudget", *modifies]]
    assert as_list(budgets[0]["Resource"]) == [
        f"arn:aws:budgets::{intrinsics.pseudo['AWS::AccountId']}:budget/{BUDGET_NAME_PREFIX}*"
    ]


def test_the_report_reads_and_writes_only_the_cost_answers_of_the_registry(
    cfn: dict[str, Any], intrinsics: Intrinsics
) -> None:
    item_statements = [
        statement
        for statement in statements_of(cfn, "ReportMonthlyCostsFunction", intrinsics)
        if {"dynamodb:GetItem", "dynamodb:PutItem"} & set(statement_actions(statement))
    ]
    assert len(item_statements) == 1
    condition = item_statements[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert condition == [f"{COSTS_PREFIX}*"]
