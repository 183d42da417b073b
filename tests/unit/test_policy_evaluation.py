"""The IAM policy evaluator, against the examples AWS documents.

Each test's docstring names the page (and the example on it) that the test
reproduces. Pages of the IAM User Guide are under
https://docs.aws.amazon.com/IAM/latest/UserGuide/ ; the SCP ones are in the AWS
Organizations User Guide.
"""

import json

import pytest

from orgvend_local.policy_evaluation import (
    Decision,
    Request,
    evaluate,
    evaluate_policy,
    principal_context,
    statement_applies,
    trust_allows,
)

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ops"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/alice"
ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = Decision.ALLOWED, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="*", resource="*", **elements) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **elements}


def deny(action="*", resource="*", **elements) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **elements}


def trust(principal, **elements) -> dict:
    return policy({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **elements})


FULL_AWS_ACCESS = policy(allow())


# --- "Policy evaluation logic" (reference_policies_evaluation-logic.html) ---

CARLOS = "arn:aws:iam::123456789012:user/carlossalazar"
CARLOS_IDENTITY = policy(
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": [
            "s3:GetBucketLocation",
            "s3:GetAccountPublicAccessBlock",
            "s3:ListAccessPoints",
            "s3:ListAllMyBuckets",
        ],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Sid": "AllowS3Self",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
    },
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)
CARLOS_BUCKET = policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": CARLOS},
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
    }
)


def test_carlos_is_denied_the_logs_bucket_by_his_identity_policy():
    """Policy evaluation logic, "Example identity-based and resource-based policy evaluation":
    saving to carlossalazar-logs meets the DenyS3Logs statement, an explicit deny."""
    request = Request(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/notes.txt")
    assert (
        evaluate(request, identity_policies=[CARLOS_IDENTITY], resource_policy=CARLOS_BUCKET) is EXPLICIT_DENY
    )


def test_carlos_is_allowed_his_bucket_by_either_policy():
    """Policy evaluation logic, "Example identity-based and resource-based policy evaluation":
    both policies allow saving to carlossalazar, and "if one of the policy types allows the
    request and the other doesn't, the request is still allowed"."""
    request = Request(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/notes.txt")
    only_listing = policy(CARLOS_IDENTITY["Statement"][0])
    assert evaluate(request, identity_policies=[CARLOS_IDENTITY], resource_policy=CARLOS_BUCKET) is ALLOWED
    assert evaluate(request, identity_policies=[CARLOS_IDENTITY]) is ALLOWED
    assert evaluate(request, identity_policies=[only_listing], resource_policy=CARLOS_BUCKET) is ALLOWED
    assert evaluate(request, identity_policies=[only_listing]) is IMPLICIT_DENY


def test_explicit_and_implicit_denies():
    """Policy evaluation logic, "The difference between explicit and implicit denies": the
    AllowGetList / DenyReports policy, and another policy that allows a report action."""
    get_list_deny_reports = policy(
        {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
    )

    def decide(action: str, *extra: dict) -> Decision:
        return evaluate(Request(USER, action, "*"), identity_policies=[get_list_deny_reports, *extra])

    assert decide("iam:GetUser") is ALLOWED
    assert decide("iam:CreatePolicy") is IMPLICIT_DENY
    assert decide("iam:GetOrganizationsAccessReport") is EXPLICIT_DENY
    assert (
        decide("iam:GenerateCredentialReport", policy(allow("iam:GenerateCredentialReport"))) is EXPLICIT_DENY
    )
    # Action names match case-insensitively, service prefix included.
    assert decide("IAM:getuser") is ALLOWED


def test_an_scp_without_an_allow_implicitly_denies_what_the_identity_policy_allows():
    """Policy evaluation logic, "Evaluating identity-based policies with Organizations SCPs":
    the action must be allowed by both the identity-based policy and the SCP."""
    request = Request(ROLE, "iam:CreateUser", "*")
    ec2_only = policy(allow("ec2:*"))
    assert evaluate(request, identity_policies=[FULL_AWS_ACCESS], service_control_policies=[[ec2_only]]) is (
        IMPLICIT_DENY
    )
    assert (
        evaluate(request, identity_policies=[], service_control_policies=[[FULL_AWS_ACCESS]]) is IMPLICIT_DENY
    )
    assert evaluate(
        request, identity_policies=[FULL_AWS_ACCESS], service_control_policies=[[FULL_AWS_ACCESS]]
    ) is (ALLOWED)


def test_scps_must_allow_at_every_level_from_the_root_to_the_account():
    """AWS Organizations, "SCP evaluation", "How SCPs work with Allow", figures 1 and 2: an
    Allow must be attached at Root, at the Production OU and at Account B; with the one at
    the Production OU missing, Account B is denied."""
    request = Request(ROLE, "s3:GetObject", "arn:aws:s3:::reports/q1.csv")
    allow_s3 = policy(allow("s3:*"))
    ec2_only = policy(allow("ec2:*"))
    figure_1 = [[FULL_AWS_ACCESS], [allow_s3], [FULL_AWS_ACCESS]]
    figure_2 = [[FULL_AWS_ACCESS], [ec2_only], [FULL_AWS_ACCESS]]
    assert (
        evaluate(request, identity_policies=[FULL_AWS_ACCESS], service_control_policies=figure_1) is ALLOWED
    )
    assert evaluate(request, identity_policies=[FULL_AWS_ACCESS], service_control_policies=figure_2) is (
        IMPLICIT_DENY
    )
    # A level with no SCP attached allows nothing (AWS requires one at every level).
    assert evaluate(
        request, identity_policies=[FULL_AWS_ACCESS], service_control_policies=[[FULL_AWS_ACCESS], []]
    ) is (IMPLICIT_DENY)


def test_an_scp_deny_at_any_level_wins():
    """AWS Organizations, "SCP evaluation", "How SCPs work with Deny": a Deny in an SCP attached
    to the Production OU denies Account B although Root and Account B allow."""
    request = Request(ROLE, "s3:DeleteBucket", "arn:aws:s3:::reports")
    levels = [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, policy(deny("s3:*"))], [FULL_AWS_ACCESS]]
    assert (
        evaluate(request, identity_policies=[FULL_AWS_ACCESS], service_control_policies=levels)
        is EXPLICIT_DENY
    )


def test_a_child_scp_only_filters_what_its_parent_allows():
    """AWS Organizations, "How SCPs work": the root allows A, B and C, the OU allows C, D and E;
    only C is left to the accounts in the OU."""
    root = policy(allow(["ec2:*", "s3:*", "sqs:*"]))
    ou = policy(allow(["sqs:*", "sns:*", "kms:*"]))
    allowed = {
        action: evaluate(
            Request(ROLE, action, "*"),
            identity_policies=[FULL_AWS_ACCESS],
            service_control_policies=[[root], [ou]],
        )
        for action in ("ec2:RunInstances", "s3:GetObject", "sqs:SendMessage", "sns:Publish", "kms:Decrypt")
    }
    assert [action for action, decision in allowed.items() if decision is ALLOWED] == ["sqs:SendMessage"]


def test_a_permissions_boundary_limits_an_identity_policy_allow():
    """Permissions boundaries for IAM entities: ShirleyRodriguez's boundary allows s3, cloudwatch
    and ec2, so her permissions policy allowing iam:CreateUser does not let her create a user."""
    shirley = f"arn:aws:iam::{ACCOUNT}:user/ShirleyRodriguez"
    boundary = policy(allow(["s3:*", "cloudwatch:*", "ec2:*"]))
    create_user = policy(allow("iam:CreateUser"))
    assert evaluate(Request(shirley, "iam:CreateUser", "*"), identity_policies=[create_user]) is ALLOWED
    assert evaluate(
        Request(shirley, "iam:CreateUser", "*"),
        identity_policies=[create_user],
        permissions_boundaries=[boundary],
    ) is (IMPLICIT_DENY)
    assert evaluate(
        Request(shirley, "ec2:RunInstances", "*"),
        identity_policies=[create_user],
        permissions_boundaries=[boundary],
    ) is (IMPLICIT_DENY)
    assert evaluate(
        Request(shirley, "ec2:RunInstances", "*"),
        identity_policies=[policy(allow("ec2:*"))],
        permissions_boundaries=[boundary],
    ) is (ALLOWED)


def test_zhang_may_create_users_only_with_the_company_boundary():
    """Permissions boundaries for IAM entities, "Delegating responsibility to others using
    permissions boundaries": Zhang's DelegatedUserBoundary (trimmed to two statements) and his
    DelegatedUserPermissions allowing iam:*."""
    zhang = f"arn:aws:iam::{ACCOUNT}:user/Zhang"
    company_boundary = f"arn:aws:iam::{ACCOUNT}:policy/XCompanyBoundaries"
    boundary = policy(
        {
            "Sid": "CreateOrChangeOnlyWithBoundary",
            "Effect": "Allow",
            "Action": ["iam:CreateUser", "iam:PutUserPermissionsBoundary"],
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": company_boundary}},
        },
        {
            "Sid": "NoBoundaryUserDelete",
            "Effect": "Deny",
            "Action": "iam:DeleteUserPermissionsBoundary",
            "Resource": "*",
        },
    )
    permissions = policy({"Sid": "IAM", "Effect": "Allow", "Action": "iam:*", "Resource": "*"})

    def decide(action: str, context: dict) -> Decision:
        request = Request(zhang, action, f"arn:aws:iam::{ACCOUNT}:user/new", context)
        return evaluate(request, identity_policies=[permissions], permissions_boundaries=[boundary])

    assert decide("iam:CreateUser", {"iam:PermissionsBoundary": company_boundary}) is ALLOWED
    assert decide("iam:CreateUser", {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/Admin"}) is (
        IMPLICIT_DENY
    )
    assert decide("iam:CreateUser", {}) is IMPLICIT_DENY
    assert decide("iam:DeleteUserPermissionsBoundary", {}) is EXPLICIT_DENY


S3_READ = policy(allow("s3:GetObject"))
EC2_ONLY = policy(allow("ec2:*"))


@pytest.mark.parametrize(
    ("principal", "named_in_resource_policy", "identity", "boundary", "expected"),
    [
        # A grant to the role session itself is limited neither by identity policies nor by a boundary.
        (SESSION, SESSION, [], [EC2_ONLY], ALLOWED),
        # A grant to the role ARN is limited by an implicit deny in the boundary.
        (SESSION, ROLE, [], [EC2_ONLY], IMPLICIT_DENY),
        (SESSION, ROLE, [], [], ALLOWED),
        # A grant to the IAM user itself: not limited by identity policies or a boundary.
        (USER, USER, [], [EC2_ONLY], ALLOWED),
        # Naming the account only delegates: the principal's identity policies must allow, within the boundary.
        (USER, ACCOUNT, [], [], IMPLICIT_DENY),
        (USER, f"arn:aws:iam::{ACCOUNT}:root", [S3_READ], [], ALLOWED),
        (USER, f"arn:aws:iam::{ACCOUNT}:root", [S3_READ], [EC2_ONLY], IMPLICIT_DENY),
    ],
)
def test_resource_based_policies_and_implicit_denies_in_other_policy_types(
    principal, named_in_resource_policy, identity, boundary, expected
):
    """Policy evaluation logic, "Resource-based policies" step and its table "Resource-based
    policies and implicit denies in other policy types (same account)": IAM role, IAM role
    session and IAM user named in a bucket policy that allows s3:GetObject."""
    bucket = policy(
        {"Effect": "Allow", "Principal": {"AWS": named_in_resource_policy}, "Action": "s3:GetObject"}
    )
    request = Request(principal, "s3:GetObject", "arn:aws:s3:::reports/q1.csv")
    decision = evaluate(
        request, identity_policies=identity, permissions_boundaries=boundary, resource_policy=bucket
    )
    assert decision is expected


def test_cross_account_access_needs_both_the_identity_and_the_resource_policy():
    """Cross-account policy evaluation logic (linked from "Policy evaluation logic"): the
    principal's identity policy and the resource-based policy must both allow."""
    principal = f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader"
    bucket = policy({"Effect": "Allow", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "s3:GetObject"})
    request = Request(principal, "s3:GetObject", "arn:aws:s3:::reports/q1.csv")
    read = policy(allow("s3:GetObject"))
    assert evaluate(request, identity_policies=[read], resource_policy=bucket, same_account=False) is ALLOWED
    assert (
        evaluate(request, identity_policies=[], resource_policy=bucket, same_account=False) is IMPLICIT_DENY
    )
    assert evaluate(request, identity_policies=[read], same_account=False) is IMPLICIT_DENY


def test_the_root_user_needs_no_identity_policy_but_is_bound_by_scps():
    """Policy evaluation logic, "Determining whether a request is allowed or denied within an
    account": all requests are implicitly denied "with the exception of the AWS account root
    user"; SCPs still apply to the root user of a member account."""
    request = Request(f"arn:aws:iam::{ACCOUNT}:root", "iam:CreateUser", "*")
    assert evaluate(request) is ALLOWED
    assert evaluate(request, service_control_policies=[[policy(allow("ec2:*"))]]) is IMPLICIT_DENY


# --- "IAM JSON policy elements: Condition operators" (reference_policies_elements_condition_operators.html) ---


def test_string_equals_on_a_principal_tag_the_user_does_not_have():
    """Condition operators, "String condition operators": iam:*AccessKey* allowed only with
    aws:PrincipalTag/job-category = iamuser-admin; a user without the tag is implicitly denied."""
    document = policy(
        allow(
            "iam:*AccessKey*",
            f"arn:aws:iam::{ACCOUNT}:user/*",
            Condition={"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}},
        )
    )
    resource = f"arn:aws:iam::{ACCOUNT}:user/bob"
    tagged = Request(
        USER, "iam:CreateAccessKey", resource, {"aws:PrincipalTag/job-category": "iamuser-admin"}
    )
    assert evaluate_policy(document, tagged) is ALLOWED
    assert evaluate_policy(document, Request(USER, "iam:CreateAccessKey", resource)) is IMPLICIT_DENY
    wrong_case = Request(
        USER, "iam:UpdateAccessKey", resource, {"aws:PrincipalTag/job-category": "IAMUser-Admin"}
    )
    assert evaluate_policy(document, wrong_case) is IMPLICIT_DENY


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("StringEquals", "o-abcdefghij", False),
        ("StringNotEquals", "o-abcdefghij", True),
        ("StringNotEqualsIgnoreCase", "o-abcdefghij", True),
        ("StringNotLike", "o-*", True),
        ("ArnNotEquals", f"arn:aws:iam::{ACCOUNT}:role/*", True),
        ("ArnNotLike", f"arn:aws:iam::{ACCOUNT}:role/*", True),
        ("NumericNotEquals", "3", True),
        ("StringEqualsIfExists", "o-abcdefghij", True),
        ("StringLikeIfExists", "o-*", True),
        ("ArnLikeIfExists", f"arn:aws:iam::{ACCOUNT}:role/*", True),
        ("ForAllValues:StringEquals", "o-abcdefghij", True),
        ("ForAnyValue:StringEquals", "o-abcdefghij", False),
        ("ForAnyValue:StringNotEquals", "o-abcdefghij", False),
        # IfExists is honoured under a set operator too ("You can add IfExists to the end of any
        # condition operator name except the Null condition").
        ("ForAnyValue:StringEqualsIfExists", "o-abcdefghij", True),
    ],
)
def test_a_key_missing_from_the_request(operator, value, expected):
    """Condition operators, the "Important" note: a missing key makes a condition false, but true
    for an operator requiring that the key not match (StringNotLike, ArnNotLike...); "...IfExists
    condition operators": a missing key evaluates the condition as true; "Single-valued vs.
    multivalued context keys": ForAllValues returns true when the key is missing, ForAnyValue false."""
    statement = allow("s3:GetObject", Condition={operator: {"aws:SomeAbsentKey": value}})
    assert (
        statement_applies(statement, Request(USER, "s3:GetObject", "*"), principal_must_match=False)
        is expected
    )


def test_if_exists_lets_a_statement_apply_to_resources_without_the_key():
    """Condition operators, "...IfExists condition operators": the THISPOLICYDOESNOTWORK policy
    denies RunInstances on the image (no ec2:InstanceType key); StringLikeIfExists fixes it."""
    types = ["t1.*", "t2.*", "m3.*"]
    broken = policy(allow("ec2:RunInstances", Condition={"StringLike": {"ec2:InstanceType": types}}))
    fixed = policy(allow("ec2:RunInstances", Condition={"StringLikeIfExists": {"ec2:InstanceType": types}}))
    image = Request(USER, "ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-0abcdef1234567890")
    instance = "arn:aws:ec2:us-east-1:111122223333:instance/*"
    assert evaluate_policy(broken, image) is IMPLICIT_DENY
    assert evaluate_policy(fixed, image) is ALLOWED
    small = Request(USER, "ec2:RunInstances", instance, {"ec2:InstanceType": "t2.micro"})
    large = Request(USER, "ec2:RunInstances", instance, {"ec2:InstanceType": "m5.24xlarge"})
    assert evaluate_policy(fixed, small) is ALLOWED
    assert evaluate_policy(fixed, large) is IMPLICIT_DENY


def test_arn_like_matches_each_component_where_string_like_does_not():
    """Condition operators, "Amazon Resource Name (ARN) condition operators": the pattern
    arn:aws:someservice:*:111122223333:finance/* matches the value below with StringLike, but
    not with ArnLike, whose first * matches only us-east-2."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    request = Request(USER, "someservice:Read", "*", {"aws:SourceArn": value})

    def applies(operator: str, expected: str = pattern) -> bool:
        statement = allow("someservice:Read", Condition={operator: {"aws:SourceArn": expected}})
        return statement_applies(statement, request, principal_must_match=False)

    assert applies("StringLike")
    assert not applies("ArnLike")
    assert not applies("ArnEquals")
    assert applies("ArnNotLike")
    # Wildcards within components; the resource component keeps its colons.
    assert applies("ArnLike", "arn:aws:someservice:us-east-?:*:store/*")
    assert applies("ArnLike", "arn:*:*:*:*:*")
    assert not applies("ArnLike", "*")  # not six components
    assert not applies("ArnLike", "arn:aws:someservice:us-east-2:999999999999:Store/*")  # case-sensitive


def test_arn_equals_sns_may_send_to_the_queue_for_one_topic():
    """Condition operators, "Amazon Resource Name (ARN) condition operators": the SQS queue
    policy letting account 123456789012 send messages only on behalf of one SNS topic."""
    queue = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "123456789012"},
            "Action": "SQS:SendMessage",
            "Resource": "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID",
            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:TOPIC-ID"}},
        }
    )
    principal = "arn:aws:iam::123456789012:role/sender"
    queue_arn = "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID"
    from_topic = Request(
        principal,
        "sqs:SendMessage",
        queue_arn,
        {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:TOPIC-ID"},
    )
    directly = Request(principal, "sqs:SendMessage", queue_arn)
    assert evaluate_policy(queue, from_topic, resource_based=True) is ALLOWED
    assert evaluate_policy(queue, directly, resource_based=True) is IMPLICIT_DENY
    assert (
        evaluate_policy(
            queue,
            Request(
                f"arn:aws:iam::{ACCOUNT}:role/sender",
                "sqs:SendMessage",
                queue_arn,
                {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:TOPIC-ID"},
            ),
            resource_based=True,
        )
        is IMPLICIT_DENY
    )


def test_bool_denies_requests_not_over_tls():
    """Condition operators, "Boolean condition operators": the BooleanExample statement denying
    s3:* on the bucket when aws:SecureTransport is false (unquoted JSON booleans accepted)."""
    document = policy(
        {
            "Sid": "BooleanExample",
            "Action": "s3:*",
            "Effect": "Deny",
            "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
            "Condition": {"Bool": {"aws:SecureTransport": False}},
        }
    )
    plain = Request(
        USER, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/a", {"aws:SecureTransport": "false"}
    )
    tls = Request(USER, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/a", {"aws:SecureTransport": "true"})
    assert evaluate_policy(document, plain) is EXPLICIT_DENY
    assert evaluate_policy(document, tls) is IMPLICIT_DENY
    assert evaluate(tls, identity_policies=[FULL_AWS_ACCESS, document]) is ALLOWED


def test_null_checks_that_temporary_credentials_are_not_used():
    """Condition operators, "Condition operator to check existence of condition keys": ec2:*
    allowed only when aws:TokenIssueTime is absent (long-term credentials)."""
    document = policy(allow("ec2:*", Condition={"Null": {"aws:TokenIssueTime": "true"}}))
    assert evaluate_policy(document, Request(USER, "ec2:DescribeVpcs", "*")) is ALLOWED
    temporary = Request(SESSION, "ec2:DescribeVpcs", "*", {"aws:TokenIssueTime": "2024-05-01T10:00:00Z"})
    assert evaluate_policy(document, temporary) is IMPLICIT_DENY


def test_numeric_less_than_equals_limits_max_keys():
    """Condition operators, "Numeric condition operators": s3:ListBucket on example_bucket with
    s3:max-keys up to 10."""
    document = policy(
        allow(
            "s3:ListBucket",
            "arn:aws:s3:::example_bucket",
            Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}},
        )
    )

    def decide(context: dict) -> Decision:
        return evaluate_policy(
            document, Request(USER, "s3:ListBucket", "arn:aws:s3:::example_bucket", context)
        )

    assert decide({"s3:max-keys": "10"}) is ALLOWED
    assert decide({"s3:max-keys": "2.5"}) is ALLOWED
    assert decide({"s3:max-keys": "11"}) is IMPLICIT_DENY
    assert decide({"s3:max-keys": "ten"}) is IMPLICIT_DENY
    assert decide({}) is IMPLICIT_DENY


def test_date_greater_than_requires_fresh_credentials():
    """Condition operators, "Date condition operators": iam:*AccessKey* allowed only with
    credentials issued after 2020-01-01T00:00:01Z; an IAM user's access keys carry no
    aws:TokenIssueTime and are denied."""
    document = policy(
        allow(
            "iam:*AccessKey*",
            f"arn:aws:iam::{ACCOUNT}:user/*",
            Condition={"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
        )
    )
    resource = f"arn:aws:iam::{ACCOUNT}:user/bob"
    fresh = Request(SESSION, "iam:ListAccessKeys", resource, {"aws:TokenIssueTime": "2020-06-01T12:00:00Z"})
    stale = Request(SESSION, "iam:ListAccessKeys", resource, {"aws:TokenIssueTime": "2019-12-31T23:59:59Z"})
    epoch = Request(SESSION, "iam:ListAccessKeys", resource, {"aws:TokenIssueTime": "1600000000"})
    assert evaluate_policy(document, fresh) is ALLOWED
    assert evaluate_policy(document, stale) is IMPLICIT_DENY
    assert evaluate_policy(document, epoch) is ALLOWED
    assert evaluate_policy(document, Request(USER, "iam:ListAccessKeys", resource)) is IMPLICIT_DENY


def test_ip_address_with_ipv4_and_ipv6_ranges():
    """Condition operators, "IP address condition operators": the policy mixing 203.0.113.0/24
    and 2001:DB8:1234:5678::/64."""
    document = policy(
        allow(
            "someservice:*",
            Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}},
        )
    )

    def decide(address: str) -> Decision:
        return evaluate_policy(document, Request(USER, "someservice:Do", "*", {"aws:SourceIp": address}))

    assert decide("203.0.113.7") is ALLOWED
    assert decide("2001:db8:1234:5678::1") is ALLOWED
    assert decide("198.51.100.1") is IMPLICIT_DENY
    assert decide("not-an-address") is IMPLICIT_DENY


def test_conditions_and_across_operators_and_keys_or_across_values():
    """IAM JSON policy elements: Condition, "The condition block": operators and keys are ANDed,
    the values of one key ORed; a negated operator with several values matches none of them."""
    statement = allow(
        "s3:GetObject",
        Condition={
            "StringEquals": {"aws:PrincipalTag/team": ["blue", "green"], "aws:RequestedRegion": "eu-west-1"},
            "StringNotEquals": {"aws:PrincipalTag/level": ["intern", "contractor"]},
        },
    )

    def applies(team: str, region: str, level: str | None = None) -> bool:
        context = {"aws:PrincipalTag/team": team, "aws:RequestedRegion": region}
        if level is not None:
            context["aws:PrincipalTag/level"] = level
        return statement_applies(
            statement, Request(USER, "s3:GetObject", "*", context), principal_must_match=False
        )

    assert applies("green", "eu-west-1")
    assert not applies("red", "eu-west-1")
    assert not applies("blue", "us-east-1")
    assert not applies("blue", "eu-west-1", "intern")
    assert not applies("blue", "eu-west-1", "contractor")
    assert applies("blue", "eu-west-1", "staff")


def test_key_names_ignore_case_and_values_do_not_except_with_ignore_case_operators():
    """IAM policy elements: Variables and tags: "Key names are case-insensitive"; Condition
    operators: StringEquals is case sensitive, StringEqualsIgnoreCase is not."""
    request = Request(USER, "s3:GetObject", "*", {"AWS:RESOURCETAG/Managed-By": "OrgVend"})

    def applies(operator: str, value: str) -> bool:
        statement = allow("s3:GetObject", Condition={operator: {"aws:ResourceTag/managed-by": value}})
        return statement_applies(statement, request, principal_must_match=False)

    assert applies("StringEquals", "OrgVend")
    assert not applies("StringEquals", "orgvend")
    assert applies("StringEqualsIgnoreCase", "orgvend")
    assert not applies("StringNotEqualsIgnoreCase", "ORGVEND")
    assert applies("StringLike", "Org*")
    assert not applies("StringLike", "org*")


# --- Multivalued context keys (reference_policies_condition-single-vs-multi-valued-context-keys.html,
#     reference_policies_condition_examples-multi-valued-context-keys.html) ---


def test_for_all_values_dynamodb_requested_attributes():
    """Reproduces the DynamoDB Thread table example of "Creating a condition that tests multiple
    key values (set operations)" (reference_policies_multi-value-conditions.html, now folded
    into "Single-valued vs. multivalued context keys"): ForAllValues:StringLike allows GetItem of PostDateTime, Message
    and Tags only; asking also for UserName or ID is not allowed; an empty set returns true."""
    document = policy(
        allow(
            "dynamodb:GetItem",
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Thread",
            Condition={
                "ForAllValues:StringLike": {
                    "dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]
                }
            },
        )
    )

    def decide(attributes: list[str]) -> Decision:
        table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Thread"
        request = Request(USER, "dynamodb:GetItem", table, {"dynamodb:requestedAttributes": attributes})
        return evaluate_policy(document, request)

    assert decide(["PostDateTime", "Message"]) is ALLOWED
    assert decide(["PostDateTime", "UserName"]) is IMPLICIT_DENY
    assert decide(["ID", "Message"]) is IMPLICIT_DENY
    assert decide([]) is ALLOWED


def test_for_any_value_dynamodb_put_item_denied_for_protected_attributes():
    """Reproduces the DynamoDB Thread table example of "Creating a condition that tests multiple
    key values (set operations)" (reference_policies_multi-value-conditions.html): ForAnyValue:StringLike denies PutItem of
    UserName, Message and PostDateTime; UserName alone is not denied; an empty set returns false."""
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Thread"
    document = policy(
        deny(
            "dynamodb:PutItem",
            table,
            Condition={"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}},
        )
    )

    def decide(attributes: list[str]) -> Decision:
        return evaluate_policy(
            document, Request(USER, "dynamodb:PutItem", table, {"dynamodb:requestedAttributes": attributes})
        )

    assert decide(["UserName", "Message", "PostDateTime"]) is EXPLICIT_DENY
    assert decide(["UserName"]) is IMPLICIT_DENY
    assert decide([]) is IMPLICIT_DENY


def test_for_all_values_allow_with_absent_tag_keys_is_the_documented_pitfall():
    """Single-valued vs. multivalued context keys, "ForAllValues": it "returns true if there are
    no context keys in the request", so be careful using ForAllValues with an Allow effect: a
    request carrying no tags at all is allowed."""
    document = policy(
        allow(
            "ec2:CreateTags",
            Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
        )
    )

    def decide(context: dict) -> Decision:
        return evaluate_policy(document, Request(USER, "ec2:CreateTags", "*", context))

    assert decide({"aws:TagKeys": ["environment"]}) is ALLOWED
    assert decide({"aws:TagKeys": ["environment", "owner"]}) is IMPLICIT_DENY
    assert decide({}) is ALLOWED  # the pitfall
    assert decide({"aws:TagKeys": []}) is ALLOWED


def test_deny_restricted_tags_with_a_null_check():
    """Multivalued context key examples, "Example: Deny policy with condition set operator
    ForAllValues": DenyRestrictedTags, whose Null check keeps a request without tag keys from
    matching ForAllValues."""
    document = policy(
        {
            "Sid": "DenyRestrictedTags",
            "Effect": "Deny",
            "Action": ["iam:Tag*", "iam:UnTag*"],
            "Resource": ["*"],
            "Condition": {
                "Null": {"aws:TagKeys": "false"},
                "ForAllValues:StringLike": {"aws:TagKeys": ["key1*", "key2*", "key3*"]},
            },
        }
    )

    def decide(context: dict) -> Decision:
        return evaluate_policy(document, Request(USER, "iam:TagRole", ROLE, context))

    assert decide({"aws:TagKeys": ["key1-owner", "key3-cost"]}) is EXPLICIT_DENY
    assert decide({"aws:TagKeys": ["key1-owner", "team"]}) is IMPLICIT_DENY
    assert decide({}) is IMPLICIT_DENY
    assert decide({"aws:TagKeys": []}) is IMPLICIT_DENY


@pytest.mark.parametrize(
    ("tag_keys", "expected"),
    [
        (["key1:legal"], IMPLICIT_DENY),
        (["key1:legal", "key2:audit"], IMPLICIT_DENY),
        (["key2:audit"], EXPLICIT_DENY),
        (None, EXPLICIT_DENY),
    ],
)
def test_deny_with_for_all_values_string_not_like(tag_keys, expected):
    """Multivalued context key examples, "Deny a single policy condition value for a multivalued
    context key": DenyRestrictedTags with ForAllValues:StringNotLike key1*; it matches when no
    request value is like key1*, and (ForAllValues) when aws:TagKeys is missing."""
    document = policy(
        deny(
            ["iam:Tag*", "iam:UnTag*"],
            ["*"],
            Sid="DenyRestrictedTags",
            Condition={"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
        )
    )
    context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    assert evaluate_policy(document, Request(USER, "iam:TagUser", USER, context)) is expected


def test_for_any_value_denies_snapshots_tagged_with_a_listed_key():
    """Multivalued context key examples, "Example: Deny policy with condition set operator
    ForAnyValue": deny creating snapshots tagged with environment or webserver."""
    document = policy(
        deny(
            "ec2:CreateSnapshot",
            Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "webserver"]}},
        )
    )

    def decide(context: dict) -> Decision:
        return evaluate_policy(document, Request(USER, "ec2:CreateSnapshot", "*", context))

    assert decide({"aws:TagKeys": ["webserver", "owner"]}) is EXPLICIT_DENY
    assert decide({"aws:TagKeys": ["owner"]}) is IMPLICIT_DENY
    assert decide({}) is IMPLICIT_DENY


def test_a_single_valued_key_under_a_set_operator_is_a_set_of_one_and_the_reverse_is_refused():
    """Single-valued vs. multivalued context keys, "Key points": a set operator with a
    single-valued key still evaluates (which can make a policy overly permissive); a
    multivalued key needs a set operator, which this evaluator enforces by refusing."""
    single = Request(USER, "s3:GetObject", "*", {"aws:PrincipalOrgID": "o-abcdefghij"})
    statement = allow(
        "s3:GetObject", Condition={"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    )
    assert statement_applies(statement, single, principal_must_match=False)
    multi = Request(USER, "s3:GetObject", "*", {"aws:TagKeys": ["a"]})
    with pytest.raises(ValueError, match="ForAnyValue"):
        statement_applies(
            allow("s3:GetObject", Condition={"StringEquals": {"aws:TagKeys": "a"}}),
            multi,
            principal_must_match=False,
        )


# --- NotAction and NotResource ---


def test_not_action_with_allow():
    """IAM JSON policy elements: NotAction, "NotAction with Allow": everything except IAM; and
    every S3 action on S3 resources except DeleteBucket (not ListAllMyBuckets, whose resource is *)."""
    all_but_iam = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert evaluate_policy(all_but_iam, Request(USER, "s3:GetObject", "arn:aws:s3:::b/k")) is ALLOWED
    assert evaluate_policy(all_but_iam, Request(USER, "iam:CreateUser", "*")) is IMPLICIT_DENY
    s3_but_delete = policy({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"})
    assert evaluate_policy(s3_but_delete, Request(USER, "s3:PutObject", "arn:aws:s3:::b/k")) is ALLOWED
    assert evaluate_policy(s3_but_delete, Request(USER, "s3:DeleteBucket", "arn:aws:s3:::b")) is IMPLICIT_DENY
    assert evaluate_policy(s3_but_delete, Request(USER, "s3:ListAllMyBuckets", "*")) is IMPLICIT_DENY


def test_not_action_with_deny_unless_mfa():
    """IAM JSON policy elements: NotAction, "NotAction with Deny": DenyAllUsersNotUsingMFA denies
    non-IAM actions when aws:MultiFactorAuthPresent is false or absent (BoolIfExists)."""
    document = policy(
        {
            "Sid": "DenyAllUsersNotUsingMFA",
            "Effect": "Deny",
            "NotAction": "iam:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    )

    def decide(action: str, context: dict) -> Decision:
        return evaluate(Request(USER, action, "*", context), identity_policies=[FULL_AWS_ACCESS, document])

    assert decide("ec2:DescribeVpcs", {}) is EXPLICIT_DENY
    assert decide("ec2:DescribeVpcs", {"aws:MultiFactorAuthPresent": "false"}) is EXPLICIT_DENY
    assert decide("ec2:DescribeVpcs", {"aws:MultiFactorAuthPresent": "true"}) is ALLOWED
    assert decide("iam:ListMFADevices", {}) is ALLOWED


def test_not_resource_denies_all_of_s3_but_the_payroll_folder():
    """IAM JSON policy elements: NotResource: the HRPayroll group is denied every S3 resource
    other than HRBucket/Payroll, and the policy grants nothing by itself."""
    document = policy(
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
        }
    )
    payroll = Request(USER, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv")
    elsewhere = Request(USER, "s3:GetObject", "arn:aws:s3:::HRBucket/Reviews/2024.csv")
    assert evaluate_policy(document, payroll) is IMPLICIT_DENY
    assert evaluate_policy(document, elsewhere) is EXPLICIT_DENY
    assert evaluate(payroll, identity_policies=[FULL_AWS_ACCESS, document]) is ALLOWED
    assert evaluate_policy(document, Request(USER, "ec2:DescribeVpcs", "*")) is IMPLICIT_DENY


# --- Principal and NotPrincipal, role trust policies ---


@pytest.mark.parametrize(
    "account_principal", [f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, [OTHER_ACCOUNT, ACCOUNT]]
)
def test_the_account_root_as_principal_means_any_principal_of_that_account(account_principal):
    """AWS JSON policy elements: Principal, "AWS account principals": the account ARN and the
    short account ID behave the same; "Using the account ARN in the Principal element does not
    limit permissions to only the root user of the account"."""
    document = trust({"AWS": account_principal})
    for principal in (
        USER,
        ROLE,
        SESSION,
        f"arn:aws:iam::{ACCOUNT}:root",
        f"arn:aws:iam::{ACCOUNT}:user/path/bob",
    ):
        assert trust_allows(document, principal), principal
    assert not trust_allows(document, "arn:aws:iam::999988887777:user/alice")


def test_a_role_principal_matches_the_sessions_of_that_role():
    """AWS JSON policy elements: Principal, "IAM role principals" and "Role session principals":
    once a principal assumes a role, its requests come from the role session, which a policy
    naming the role ARN covers. A role is unique by name in its account, whatever its path."""
    document = trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/team/ops"})
    assert trust_allows(document, SESSION)
    assert trust_allows(document, f"arn:aws:iam::{ACCOUNT}:role/team/ops")
    assert not trust_allows(document, f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-admin/alice")
    assert not trust_allows(document, f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/ops/alice")
    assert not trust_allows(document, f"arn:aws:iam::{ACCOUNT}:user/ops")
    # A session principal names that session only.
    session_only = trust({"AWS": SESSION})
    assert trust_allows(session_only, SESSION)
    assert not trust_allows(session_only, f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/bob")
    assert not trust_allows(session_only, ROLE)


def test_wildcard_service_and_federated_principals():
    """AWS JSON policy elements: Principal, "All principals", "AWS service principals" and
    "Web identity session principals": "*" matches everyone; service and federated principals
    never match an IAM principal; "You cannot use a wildcard to match part of a principal"."""
    assert trust_allows(trust("*"), USER)
    assert trust_allows(trust({"AWS": "*"}), f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/x/y")
    assert not trust_allows(trust({"Service": "lambda.amazonaws.com"}), ROLE)
    assert not trust_allows(trust({"Federated": "accounts.google.com"}), USER)
    assert not trust_allows(trust({"AWS": "AROAEXAMPLEID1234567"}), ROLE)  # a deleted role's unique ID
    with pytest.raises(ValueError, match="Principal"):
        trust_allows(trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/ops-*"}), ROLE)


def test_not_principal_with_deny_spares_bob_only_with_his_account_listed():
    """AWS JSON policy elements: NotPrincipal, "Example IAM user in the same or a different
    account": every principal but Bob (listed with his account) is denied. Without the account
    ARN "the effect of the policy might be to explicitly deny access to the AWS account that
    contains the user Bob": the evaluator takes that fail-closed reading."""
    bob = "arn:aws:iam::444455556666:user/Bob"
    bucket = "arn:aws:s3:::BUCKETNAME/report"

    def bucket_policy(*spared: str) -> dict:
        return policy(
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": list(spared)},
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"],
            },
            {"Effect": "Allow", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "s3:GetObject"},
        )

    documented = bucket_policy(bob, "arn:aws:iam::444455556666:root")
    assert evaluate_policy(documented, Request(bob, "s3:GetObject", bucket), resource_based=True) is ALLOWED
    alice = "arn:aws:iam::444455556666:user/alice"
    assert (
        evaluate_policy(documented, Request(alice, "s3:GetObject", bucket), resource_based=True)
        is EXPLICIT_DENY
    )
    user_only = bucket_policy(bob)
    assert (
        evaluate_policy(user_only, Request(bob, "s3:GetObject", bucket), resource_based=True) is EXPLICIT_DENY
    )


def test_not_principal_for_an_assumed_role_lists_session_role_and_account():
    """AWS JSON policy elements: NotPrincipal, "Example IAM role in the same or different
    account": the session, the role and the account are all listed to spare the session."""
    session = "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app"
    document = policy(
        {
            "Effect": "Deny",
            "NotPrincipal": {
                "AWS": [
                    session,
                    "arn:aws:iam::444455556666:role/cross-account-read-only-role",
                    "arn:aws:iam::444455556666:root",
                ]
            },
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::Bucket_AccountAudit", "arn:aws:s3:::Bucket_AccountAudit/*"],
        }
    )
    resource = "arn:aws:s3:::Bucket_AccountAudit/log.json"
    other_session = "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/someone-else"
    assert (
        evaluate_policy(document, Request(session, "s3:GetObject", resource), resource_based=True)
        is IMPLICIT_DENY
    )
    assert evaluate_policy(
        document, Request(other_session, "s3:GetObject", resource), resource_based=True
    ) is (EXPLICIT_DENY)


# --- Policy variables ("IAM policy elements: Variables and tags", reference_policies_variables.html) ---


def test_username_variable_gives_each_user_a_home_directory():
    """Variables and tags, "Resource element": the group policy giving each user
    arn:aws:s3:::mybucket/${aws:username}/* and the s3:prefix condition ${aws:username}/*."""
    document = policy(
        {
            "Action": ["s3:ListBucket"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::mybucket"],
            "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}},
        },
        {
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::mybucket/${aws:username}/*"],
        },
    )
    david = f"arn:aws:iam::{ACCOUNT}:user/David"
    assert (
        evaluate_policy(document, Request(david, "s3:GetObject", "arn:aws:s3:::mybucket/David/cv.pdf"))
        is ALLOWED
    )
    assert evaluate_policy(
        document, Request(david, "s3:GetObject", "arn:aws:s3:::mybucket/Adele/cv.pdf")
    ) is (IMPLICIT_DENY)
    listing = Request(david, "s3:ListBucket", "arn:aws:s3:::mybucket", {"s3:prefix": "David/2024/"})
    assert evaluate_policy(document, listing) is ALLOWED
    # A role session has no aws:username: the variable does not resolve, so nothing matches.
    assert evaluate_policy(document, Request(SESSION, "s3:GetObject", "arn:aws:s3:::mybucket/alice/x")) is (
        IMPLICIT_DENY
    )


def test_variables_are_literal_text_without_version_2012_10_17():
    """Variables and tags, "Introduction" note: without a Version element of 2012-10-17,
    variables like ${aws:username} are treated as literal strings."""
    statement = allow("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/*")
    david = f"arn:aws:iam::{ACCOUNT}:user/David"
    literal = Request(david, "s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/cv.pdf")
    substituted = Request(david, "s3:GetObject", "arn:aws:s3:::mybucket/David/cv.pdf")
    assert evaluate_policy({"Statement": [statement]}, literal) is ALLOWED
    assert evaluate_policy({"Statement": [statement]}, substituted) is IMPLICIT_DENY
    assert evaluate_policy(policy(statement), substituted) is ALLOWED


def test_principal_account_variable_and_principal_org_id():
    """Variables and tags, "Condition element" (variables in string conditions) with the
    global keys aws:PrincipalAccount and aws:PrincipalOrgID: allow only roles of the caller's
    own account, and only callers of one organization. "Resource element": a variable may only
    stand after the fifth colon, so not for the account of a Resource ARN."""
    document = policy(
        allow(
            "iam:UpdateAssumeRolePolicy",
            "arn:aws:iam::*:role/*",
            Condition={
                "StringEquals": {
                    "aws:ResourceAccount": "${aws:PrincipalAccount}",
                    "aws:PrincipalOrgID": "o-abcdefghij",
                }
            },
        )
    )
    in_org = principal_context(SESSION, org_id="o-abcdefghij")
    own = Request(
        SESSION,
        "iam:UpdateAssumeRolePolicy",
        f"arn:aws:iam::{ACCOUNT}:role/x",
        {**in_org, "aws:ResourceAccount": ACCOUNT},
    )
    foreign = Request(
        SESSION,
        "iam:UpdateAssumeRolePolicy",
        f"arn:aws:iam::{OTHER_ACCOUNT}:role/x",
        {**in_org, "aws:ResourceAccount": OTHER_ACCOUNT},
    )
    outsider = Request(
        SESSION,
        "iam:UpdateAssumeRolePolicy",
        f"arn:aws:iam::{ACCOUNT}:role/x",
        {"aws:ResourceAccount": ACCOUNT},
    )
    assert evaluate_policy(document, own) is ALLOWED
    assert evaluate_policy(document, foreign) is IMPLICIT_DENY
    assert evaluate_policy(document, outsider) is IMPLICIT_DENY
    in_the_account_field = policy(
        allow("iam:UpdateAssumeRolePolicy", "arn:aws:iam::${aws:PrincipalAccount}:role/*")
    )
    with pytest.raises(ValueError, match="fifth colon"):
        evaluate_policy(in_the_account_field, own)


def test_principal_account_variable_in_the_resource_part_of_an_arn():
    """Variables and tags, "Resource element": a variable in the resource portion, after the
    fifth colon; here ${aws:PrincipalAccount} names a per-account bucket."""
    statement = allow("s3:PutObject", "arn:aws:s3:::orgvend-${aws:PrincipalAccount}-artifacts/*")
    own = Request(SESSION, "s3:PutObject", f"arn:aws:s3:::orgvend-{ACCOUNT}-artifacts/a.zip")
    other = Request(SESSION, "s3:PutObject", f"arn:aws:s3:::orgvend-{OTHER_ACCOUNT}-artifacts/a.zip")
    assert statement_applies(statement, own, principal_must_match=False)
    assert not statement_applies(statement, other, principal_must_match=False)
    # Substituted text is literal: a * in a context value is no wildcard.
    tagged = allow("s3:PutObject", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*")
    starred = Request(SESSION, "s3:PutObject", "arn:aws:s3:::bucket/blue/a", {"aws:PrincipalTag/team": "*"})
    assert not statement_applies(tagged, starred, principal_must_match=False)


def test_an_unresolvable_variable_matches_no_value():
    """Variables and tags, "Principal key values": a key that is "not present" makes "any
    attempt to match it" fail. A negated operator then matches none of its values, so it holds."""
    request = Request(SESSION, "s3:GetObject", "*", {"s3:prefix": "alice/"})

    def applies(operator: str) -> bool:
        statement = allow("s3:GetObject", Condition={operator: {"s3:prefix": "${aws:username}/"}})
        return statement_applies(statement, request, principal_must_match=False)

    assert not applies("StringEquals")
    assert not applies("StringLike")
    assert applies("StringNotEquals")


def test_special_character_variables_and_default_values():
    """Variables and tags, "Special characters" (${*}, ${?}, ${$} stand for the literal
    character) and "Specifying default values" (${aws:userid, 'anonymous'})."""
    request = Request(USER, "s3:GetObject", "arn:aws:s3:::b/what*?$", {"s3:prefix": "home/anonymous"})
    literal = allow("s3:GetObject", "arn:aws:s3:::b/what${*}${?}${$}")
    assert statement_applies(literal, request, principal_must_match=False)
    assert not statement_applies(
        literal, Request(USER, "s3:GetObject", "arn:aws:s3:::b/whatXY$"), principal_must_match=False
    )
    defaulted = allow(
        "s3:GetObject", Condition={"StringEquals": {"s3:prefix": "home/${aws:userid, 'anonymous'}"}}
    )
    assert statement_applies(defaulted, request, principal_must_match=False)
    with_userid = Request(
        USER, "s3:GetObject", "*", {"s3:prefix": "home/anonymous", "aws:userid": "AIDAEXAMPLE"}
    )
    assert not statement_applies(defaulted, with_userid, principal_must_match=False)


def test_variables_in_a_resource_based_policy_condition():
    """Variables and tags, "Condition element": the SNS topic policy giving account 999999999999
    sns:* only if sns:endpoint matches https://example.com/${aws:username}/ and the protocol is https."""
    topic = policy(
        {
            "Principal": {"AWS": "999999999999"},
            "Effect": "Allow",
            "Action": "sns:*",
            "Condition": {
                "StringLike": {"sns:endpoint": "https://example.com/${aws:username}/"},
                "StringEquals": {"sns:Protocol": "https"},
            },
        }
    )
    bob = "arn:aws:iam::999999999999:user/bob"
    topic_arn = "arn:aws:sns:us-east-1:999999999999:news"
    mine = {"sns:Endpoint": "https://example.com/bob/", "sns:Protocol": "https"}
    theirs = {"sns:Endpoint": "https://example.com/eve/", "sns:Protocol": "https"}
    assert (
        evaluate_policy(topic, Request(bob, "sns:Subscribe", topic_arn, mine), resource_based=True) is ALLOWED
    )
    assert evaluate_policy(topic, Request(bob, "sns:Subscribe", topic_arn, theirs), resource_based=True) is (
        IMPLICIT_DENY
    )


# --- trust_allows tables: aws:PrincipalArn and sts:RoleSessionName ---

PRINCIPAL_ARN_TRUST = trust(
    {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/orgvend-*"}},
)


@pytest.mark.parametrize(
    ("principal", "context", "expected"),
    [
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/orgvend-provisioner/run-1", {}, True),
        (f"arn:aws:iam::{ACCOUNT}:role/orgvend-provisioner", {}, True),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/run-1", {}, False),
        (f"arn:aws:iam::{ACCOUNT}:user/orgvend-provisioner", {}, False),
        (f"arn:aws:iam::{ACCOUNT}:root", {}, False),
        # The principal's account must be the trusted one, whatever aws:PrincipalArn says.
        (f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/orgvend-provisioner/run-1", {}, False),
        # A role with a path: the session ARN does not show it, aws:PrincipalArn does.
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/orgvend-provisioner/run-1",
            {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/team/orgvend-provisioner"},
            False,
        ),
    ],
)
def test_trust_policy_with_an_arn_like_principal_arn_condition(principal, context, expected):
    """AWS JSON policy elements: Principal, "IAM role principals": trusting the account and
    narrowing with the aws:PrincipalArn condition key, which names the role (not the session) and
    which AWS does not convert to a unique ID."""
    assert trust_allows(PRINCIPAL_ARN_TRUST, principal, context) is expected


SESSION_NAME_TRUST = trust(
    {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    Sid="RoleTrustPolicyRequireUsernameForSessionName",
    Condition={"StringLike": {"sts:RoleSessionName": "${aws:username}"}},
)
NAMED_SESSIONS_TRUST = trust(
    {"AWS": f"arn:aws:iam::{ACCOUNT}:role/orgvend-provisioner"},
    Condition={"StringEquals": {"sts:RoleSessionName": ["orgvend-baseline", "orgvend-verify"]}},
)


@pytest.mark.parametrize(
    ("document", "principal", "session_name", "expected"),
    [
        (SESSION_NAME_TRUST, USER, "alice", True),
        (SESSION_NAME_TRUST, USER, "bob", False),
        (SESSION_NAME_TRUST, USER, None, False),
        # A role session has no aws:username: the variable never resolves.
        (SESSION_NAME_TRUST, SESSION, "alice", False),
        (
            NAMED_SESSIONS_TRUST,
            f"arn:aws:sts::{ACCOUNT}:assumed-role/orgvend-provisioner/x",
            "orgvend-baseline",
            True,
        ),
        (
            NAMED_SESSIONS_TRUST,
            f"arn:aws:sts::{ACCOUNT}:assumed-role/orgvend-provisioner/x",
            "orgvend-verify",
            True,
        ),
        (
            NAMED_SESSIONS_TRUST,
            f"arn:aws:sts::{ACCOUNT}:assumed-role/orgvend-provisioner/x",
            "Orgvend-Baseline",
            False,
        ),
        (NAMED_SESSIONS_TRUST, f"arn:aws:sts::{ACCOUNT}:assumed-role/orgvend-provisioner/x", None, False),
        (NAMED_SESSIONS_TRUST, f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/x", "orgvend-baseline", False),
    ],
)
def test_trust_policy_with_a_role_session_name_condition(document, principal, session_name, expected):
    """IAM and AWS STS condition context keys (reference_policies_iam-condition-keys.html),
    sts:RoleSessionName: RoleTrustPolicyRequireUsernameForSessionName requires IAM users to take
    their user name as session name, and cannot be met by a role session, "because the username
    variable is present for only IAM users". Then a trust policy allowing fixed session names."""
    context = {} if session_name is None else {"sts:RoleSessionName": session_name}
    assert trust_allows(document, principal, context) is expected


def test_statement_applies_to_resource_based_statements():
    """AWS JSON policy elements: Principal: a resource-based statement must name its principal,
    an identity-based one must not ("You cannot use the Principal element in an identity-based
    policy")."""
    statement = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sts:AssumeRole"}
    assert statement_applies(statement, Request(SESSION, "sts:AssumeRole", "*"), principal_must_match=True)
    assert not statement_applies(statement, Request(USER, "sts:AssumeRole", "*"), principal_must_match=True)
    with pytest.raises(ValueError, match="Principal"):
        statement_applies(statement, Request(SESSION, "sts:AssumeRole", "*"), principal_must_match=False)


def test_not_principal_with_allow_grants_nothing_to_a_listed_principal():
    """AWS JSON policy elements: NotPrincipal, "NotPrincipal With Allow": it allows every principal
    except the one named (and AWS recommends against it). Read fail-closed, naming the session,
    its role or its account is enough to be left out."""
    document = trust({"AWS": "*"})
    document["Statement"][0] = {"Effect": "Allow", "NotPrincipal": {"AWS": ROLE}, "Action": "sts:AssumeRole"}
    assert trust_allows(document, USER)
    assert not trust_allows(document, SESSION)
    assert not trust_allows(document, ROLE)


def test_trust_policy_deny_wins_and_json_text_is_accepted():
    """Policy evaluation logic, "Deny evaluation": an explicit deny in the trust policy overrides
    its allow. moto keeps trust policies as JSON text, which is accepted as is."""
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        },
    )
    text = json.dumps(document)
    assert trust_allows(text, SESSION, principal_context(SESSION, org_id="o-abcdefghij"))
    assert not trust_allows(text, SESSION)  # no aws:PrincipalOrgID: StringNotEquals is true, the deny applies
    assert not trust_allows(
        policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:TagSession"}), SESSION
    )


def test_principal_context():
    """AWS global condition context keys: aws:PrincipalArn is the role's ARN for a role session
    (the STS session ARN carries no path, so the path is given separately); aws:PrincipalType;
    aws:username only for IAM users (Variables and tags, "Principal key values")."""
    assert principal_context(SESSION) == {
        "aws:PrincipalArn": ROLE,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "AssumedRole",
    }
    assert principal_context(SESSION, org_id="o-abcdefghij", role_path="/team/") == {
        "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/team/ops",
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalOrgID": "o-abcdefghij",
    }
    assert principal_context("arn:aws:iam::123456789012:user/moto")["aws:username"] == "moto"
    assert principal_context(f"arn:aws:iam::{ACCOUNT}:root")["aws:PrincipalType"] == "Account"
    with pytest.raises(ValueError, match="role_path"):
        principal_context(USER, role_path="/team/")
    with pytest.raises(ValueError, match="org_id"):
        principal_context(USER, org_id="abc")


# --- Fail-closed ---


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "allow", "Action": "*", "Resource": "*"}, "Effect"),
        ({"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"}, "NotAction"),
        ({"Effect": "Allow", "Action": "*"}, "Resource"),
        ({"Effect": "Allow", "Action": "s3", "Resource": "*"}, "Action"),
        ({"Effect": "Allow", "Action": [], "Resource": "*"}, "Action"),
        ({"Effect": "Allow", "Action": "*", "Resources": "*"}, "Resources"),
        (allow(Condition={"StringEqualz": {"aws:userid": "x"}}), "StringEqualz"),
        (allow(Condition={"BinaryEquals": {"aws:userid": "eA=="}}), "not supported"),
        (allow(Condition={"NullIfExists": {"aws:userid": "true"}}), "Null"),
        (allow(Condition={"ForAnyValue:Null": {"aws:userid": "true"}}), "Null"),
        (allow(Condition={"StringEquals": {"aws:userid": None}}), "StringEquals"),
        (allow(Condition={"StringEquals": {"aws:userid": []}}), "StringEquals"),
        (allow(Condition={"StringEquals": {}}), "StringEquals"),
        (allow(Condition={"Bool": {"aws:SecureTransport": "yes"}}), "Bool"),
        (allow(Condition={"NumericLessThan": {"s3:max-keys": "ten"}}), "NumericLessThan"),
        (allow(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}}), "DateLessThan"),
        (allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/33"}}), "IpAddress"),
        (allow(Condition=["StringEquals"]), "Condition"),
        (allow(Principal={"AWS": ACCOUNT}), "Principal"),
        (allow(resource="arn:aws:s3:${aws:username}::b"), "Resource"),
    ],
)
def test_malformed_statements_raise_naming_the_element(statement, message):
    """Policy evaluation logic, "Errors": on an error the evaluation closes (here: raises)."""
    request = Request(USER, "s3:GetObject", "arn:aws:s3:::b")
    with pytest.raises(ValueError, match=message):
        evaluate_policy(policy(statement), request)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "JSON"),
        ([allow()], "object"),
        ({"Version": "2012-10-18", "Statement": [allow()]}, "Version"),
        ({"Version": "2012-10-17"}, "Statement"),
        ({"Version": "2012-10-17", "Statement": "Allow"}, "Statement"),
        ({"Version": "2012-10-17", "Statement": [allow()], "Statements": []}, "Statements"),
        # Later statements are checked even once an earlier one applies.
        (policy(allow(), {"Effect": "Deny"}), "Action"),
    ],
)
def test_malformed_documents_raise(document, message):
    """Policy evaluation logic, "Errors": a malformed document never allows."""
    with pytest.raises(ValueError, match=message):
        evaluate_policy(document, Request(USER, "s3:GetObject", "*"))


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"AWS": "arn:aws:iam::111122223333:role/ops-*"}, "wildcard"),
        ({"AWS": "alice"}, "Principal"),
        ({"Aws": ACCOUNT}, "Aws"),
        ({}, "Principal"),
        ("111122223333", "Principal"),
    ],
)
def test_malformed_principals_raise(principal, message):
    """AWS JSON policy elements: Principal: "You cannot use a wildcard to match part of a
    principal name or ARN"; an unknown principal type or shape is refused."""
    with pytest.raises(ValueError, match=message):
        trust_allows(trust(principal), USER)


def test_misuse_of_the_api_raises():
    """Fail-closed arguments: a request no AWS request context could hold, a resource-based
    statement without Principal, Resource in a trust policy, SCPs not given by level."""
    with pytest.raises(ValueError, match="principal_arn"):
        Request("alice", "s3:GetObject", "*")
    with pytest.raises(ValueError, match="action"):
        Request(USER, "AssumeRole", "*")
    with pytest.raises(ValueError, match="context"):
        Request(
            USER, "s3:GetObject", "*", {"aws:SecureTransport": True}
        )  # a bool: context values are strings
    with pytest.raises(ValueError, match="Principal"):
        evaluate_policy(policy(allow()), Request(USER, "s3:GetObject", "*"), resource_based=True)
    with pytest.raises(ValueError, match="Resource"):
        trust_allows(trust({"AWS": ACCOUNT}, Resource="*"), USER)
    with pytest.raises(ValueError, match="service_control_policies"):
        evaluate(
            Request(USER, "s3:GetObject", "*"), service_control_policies=[FULL_AWS_ACCESS]
        )  # not by level
    with pytest.raises(ValueError, match="identity_policies"):
        evaluate(Request(USER, "s3:GetObject", "*"), identity_policies=json.dumps(FULL_AWS_ACCESS))
