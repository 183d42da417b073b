"""Least privilege, checked on the SAM-transformed template (what CloudFormation really creates)."""

import re
from typing import Any

import pytest
from template_support import (
    ACCOUNT_ID,
    REGION,
    Intrinsics,
    all_policy_statements,
    as_list,
    get_att_target,
    inline_statements,
    ref_target,
    resources_of_type,
    role_of_function,
    statement_actions,
)

# Applying a settings profile (onboarding's ApplySettings, a settings run's KeepAccountSettings): the
# member's own settings through the assumed access role; contacts and Regions from the management account
# (Account Management, never DisableRegion); the profiles and the account's entry (and the run's item).
SETTINGS_GRANTS = {
    "sts:AssumeRole",
    "account:GetAlternateContact",
    "account:PutAlternateContact",
    "account:GetRegionOptStatus",
    "account:EnableRegion",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
}

# The spec: every action each function's role may perform. A new permission is a
# deliberate change to this table, reviewed with the code that needs it.
# Reading the scope (orgvend/organizations.py): an account's or OU's parents, and the management account.
SCOPE_READS = {"organizations:DescribeOrganization", "organizations:ListParents"}

# IAM Identity Center (orgvend/access): finding the kept permission sets and groups, listing and
# removing the account's assignments, waiting for a removal.
ACCESS_ASSIGNMENTS = {
    "sso:ListPermissionSets",
    "sso:DescribePermissionSet",
    "sso:ListAccountAssignments",
    "sso:DeleteAccountAssignment",
    "sso:DescribeAccountAssignmentDeletionStatus",
    "identitystore:ListGroups",
}
# What keeping an account's access takes (orgvend.account_access: AssignAccess's grants): the reactions
# that keep it true after the onboarding (a client change, the reconciliation, a refused offboarding).
ACCESS_KEEPING = {
    *ACCESS_ASSIGNMENTS,
    "sso:CreateAccountAssignment",
    "sso:DescribeAccountAssignmentCreationStatus",
}

# The accounts' budgets (orgvend/budgets.py), on orgvend's budgets only: reading them (DescribeBudget,
# DescribeBudgets, the alerts and their subscribers) is ViewBudget; making and changing them (CreateBudget,
# UpdateBudget, CreateNotification, CreateSubscriber, DeleteBudget) ModifyBudget.
BUDGETS = {"budgets:ViewBudget", "budgets:ModifyBudget"}

EXPECTED_ACTIONS: dict[str, set[str]] = {
    "RecordRequestFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", *SCOPE_READS},
    # PutItem: the CREATEREQUEST# item that tells orgvend's own creations from others'.
    # Query/DeleteItem/SendTaskSuccess: a refused creation's release (or dropped expired leases)
    # wakes the onboardings in line for a slot.
    "CreateAccountFunction": {
        "organizations:CreateAccount",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "states:SendTaskSuccess",
    },
    # The creation semaphore's item and its line: joining it, and waking its head when a slot is free.
    "WaitForCreationSlotFunction": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "states:SendTaskSuccess",
    },
    # GetItem/PutItem: also the creation semaphore's item (a slot is released here, and the line woken).
    "CheckAccountCreationFunction": {
        "organizations:DescribeCreateAccountStatus",
        "organizations:ListAccounts",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "states:SendTaskSuccess",
    },
    "VerifyMemberAccountFunction": {
        *SCOPE_READS,
        "organizations:DescribeAccount",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    },
    # Tagging an adopted account managed-by=orgvend: the one grant no tag condition can hold.
    "ClaimAccountFunction": {*SCOPE_READS, "organizations:ListTagsForResource", "organizations:TagResource"},
    "PlaceAccountFunction": {
        *SCOPE_READS,
        "organizations:ListOrganizationalUnitsForParent",
        "organizations:CreateOrganizationalUnit",
        "organizations:DescribeOrganizationalUnit",
        "organizations:MoveAccount",
    },
    # Everything else ApplyBaseline does (IAM in the member account) uses the assumed role.
    # DescribeAccount: the trust audit (is a principal the role trusted a member of the organization?).
    "ApplyBaselineFunction": {"sts:AssumeRole", "organizations:DescribeAccount"},
    # IAM Identity Center: the kept permission sets by name, assignments of those only (a tag condition),
    # groups looked up by name (created only with CreateMissingGroups=true, the CreatesGroups condition).
    "AssignAccessFunction": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        *ACCESS_ASSIGNMENTS,
        "sso:CreateAccountAssignment",
        "sso:DescribeAccountAssignmentCreationStatus",
    },
    # The member's own settings through the assumed access role; contacts and Regions from the management
    # account (Account Management, never DisableRegion); the profiles and the account's entry.
    "ApplySettingsFunction": SETTINGS_GRANTS,
    # Settings runs (statemachines/keep_settings.asl.json): the accounts chosen from the registry and the
    # run's item; each account as ApplySettings; the summary to the operators.
    "SelectSettingsAccountsFunction": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"},
    "KeepAccountSettingsFunction": SETTINGS_GRANTS,
    "SummarizeSettingsRunFunction": {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "sns:Publish",
        "events:PutEvents",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    "ReportSettingsRunFailureFunction": {
        "states:DescribeExecution",  # a report acts only for the execution's current attempt
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "sns:Publish",
        "events:PutEvents",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    "SetBillingPreferencesFunction": {"billing:UpdateBillingPreferences", "billing:GetBillingPreferences"},
    # The account's budget; GetItem: its client's default, and the limit its entry records.
    "CreateBudgetFunction": {*BUDGETS, "dynamodb:GetItem"},
    # ListOrganizationsFeatures: does the organization manage root access centrally?
    "RegisterAccountFunction": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "iam:ListOrganizationsFeatures",
    },
    "NotifyOnboardedFunction": {"sns:Publish", "events:PutEvents", "kms:GenerateDataKey", "kms:Decrypt"},
    # Query/DeleteItem/SendTaskSuccess: the failed onboarding's release wakes the line for a slot.
    "ReportOnboardingFailureFunction": {
        "states:DescribeExecution",  # a report acts only for the execution's current attempt
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "states:SendTaskSuccess",
        "sns:Publish",
        "events:PutEvents",
        # SAM's grant for the OnFailure destination (the dead-letter queue).
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    # Event-driven: Account Requested events start onboardings with the API's checks.
    "StartRequestedOnboardingFunction": {
        "states:StartExecution",
        "states:DescribeExecution",
        "dynamodb:GetItem",
        "sns:Publish",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    # Organizations events: read the truth, adopt (start the workflow), check the access role.
    # Query/DeleteItem/SendTaskSuccess: an own creation's CreateAccountResult releases its creation
    # slot and hands it to the line.
    "FollowOrganizationFunction": {
        *SCOPE_READS,
        "organizations:DescribeAccount",
        "organizations:ListTagsForResource",
        "sts:AssumeRole",
        "states:StartExecution",
        "states:DescribeExecution",
        "states:SendTaskSuccess",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "sns:Publish",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        *ACCESS_KEEPING,
    },
    "ReconcileRegistryFunction": {
        *SCOPE_READS,
        "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListAccountsForParent",
        "organizations:ListAccounts",
        "organizations:DescribeAccount",
        "organizations:ListTagsForResource",
        "sts:AssumeRole",
        "states:StartExecution",
        "states:DescribeExecution",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "sqs:SendMessage",
        *ACCESS_KEEPING,
        "identitystore:DescribeGroup",  # naming the groups of assignments orgvend did not make
        *BUDGETS,  # a missing budget made again; every budget's limit read, a page per call
    },
    # Offboarding (statemachines/offboard_account.asl.json), one step per function.
    "BeginOffboardingFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", *SCOPE_READS},
    "CheckDetachPreconditionsFunction": {
        "organizations:DescribeOrganization",
        "organizations:DescribeAccount",
        "organizations:ListDelegatedServicesForAccount",
    },
    # RemoveAccess: the assignments the registry entry records, of orgvend's permission sets only.
    "RemoveAccessFunction": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "sso:ListPermissionSets",
        "sso:DescribePermissionSet",
        "sso:ListAccountAssignments",
        "sso:DeleteAccountAssignment",
        "sso:DescribeAccountAssignmentDeletionStatus",
    },
    "StopDiscountSharingFunction": {"billing:UpdateBillingPreferences", "billing:GetBillingPreferences"},
    "RemoveAccountFunction": {"organizations:RemoveAccountFromOrganization"},
    "CloseAccountFunction": {
        "organizations:DescribeOrganization",
        "organizations:CloseAccount",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    },
    "CheckAccountClosureFunction": {"organizations:DescribeAccount"},
    "DeleteBudgetFunction": BUDGETS,
    "FinishOffboardingFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    # DescribeOrganization: the management account the access role still trusts (hand-over checklist).
    "NotifyOffboardedFunction": {
        "organizations:DescribeOrganization",
        "sns:Publish",
        "events:PutEvents",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    "ReportOffboardingFailureFunction": {
        "states:DescribeExecution",  # a report acts only for the execution's current attempt
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "sns:Publish",
        "events:PutEvents",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        *ACCESS_KEEPING,
    },
    # The HTTP API: starts, follows and redrives onboardings and offboardings; starts and follows
    # settings runs (DescribeMapRun: their Distributed Map's progress); reads the registry; its own
    # idempotency table.
    "ApiFunction": {
        "states:StartExecution",
        "states:ListExecutions",
        "states:DescribeExecution",
        "states:GetExecutionHistory",
        "states:RedriveExecution",
        "states:DescribeMapRun",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",  # the idempotency table; the registry's for PUT /settings-profiles/{name}
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "organizations:DescribeOrganization",
        "organizations:DescribeAccount",
        "organizations:ListParents",  # OutOfScope answered before anything starts
        *BUDGETS,  # PATCH /accounts/{accountId}: the budget set to its new limit
        "ce:GetCostAndUsage",  # GET /costs: one query of the month for every account
        "budgets:ViewBudget",  # GET /costs: the limits of orgvend's budgets (orgvend-<accountId>)
    },
    # The monthly cost report: Cost Explorer, the budgets' limits, the month's kept answer and the registry's
    # accounts, the CSV in the report bucket, the summary to the operators (and the dead-letter queue).
    "ReportMonthlyCostsFunction": {
        "ce:GetCostAndUsage",
        "budgets:ViewBudget",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "s3:PutObject",
        "sns:Publish",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    # The guardrail SCP on the scope's OU: at deployment (custom resource) and on schedule.
    "KeepGuardrailsFunction": {
        "organizations:ListRoots",
        "organizations:ListPolicies",
        "organizations:EnablePolicyType",
        "organizations:CreatePolicy",
        "organizations:DescribePolicy",
        "organizations:UpdatePolicy",
        "organizations:DeletePolicy",
        "organizations:ListTargetsForPolicy",
        "organizations:AttachPolicy",
        "organizations:DetachPolicy",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
    # The permission sets orgvend keeps: created tagged, changed and provisioned only while tagged.
    "KeepPermissionSetsFunction": {
        "sso:ListPermissionSets",
        "sso:DescribePermissionSet",
        "sso:CreatePermissionSet",
        "sso:TagResource",
        "sso:UpdatePermissionSet",
        "sso:GetInlinePolicyForPermissionSet",
        "sso:PutInlinePolicyToPermissionSet",
        "sso:ListManagedPoliciesInPermissionSet",
        "sso:AttachManagedPolicyToPermissionSet",
        "sso:ProvisionPermissionSet",
        "sso:DescribePermissionSetProvisioningStatus",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    },
}

VENDED_LOGS_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}

# Actions that may be granted on Resource "*", each with the reason.
RESOURCE_WILDCARD_ALLOWED = {
    "organizations:CreateAccount": "no resource-level permissions: the account does not exist yet",
    "organizations:DescribeCreateAccountStatus": "no resource-level permissions for create-account requests",
    "organizations:ListAccounts": "organization-wide listing, no resource-level permissions",
    "organizations:DescribeOrganization": "organization-wide read, no resource-level permissions",
    "organizations:ListRoots": "organization-wide listing, no resource-level permissions",
    "organizations:ListPolicies": "organization-wide listing of policies, no resource-level permissions",
    "organizations:ListOrganizationalUnitsForParent": "read-only listing of the organization's structure",
    "organizations:ListParents": "read-only listing of the organization's structure",
    "logs:CreateLogDelivery": "Step Functions vended logs: AWS requires Resource '*'",
    "logs:GetLogDelivery": "Step Functions vended logs: AWS requires Resource '*'",
    "logs:UpdateLogDelivery": "Step Functions vended logs: AWS requires Resource '*'",
    "logs:DeleteLogDelivery": "Step Functions vended logs: AWS requires Resource '*'",
    "logs:ListLogDeliveries": "Step Functions vended logs: AWS requires Resource '*'",
    "logs:PutResourcePolicy": "Step Functions vended logs: AWS requires Resource '*'",
    "logs:DescribeResourcePolicies": "Step Functions vended logs: AWS requires Resource '*'",
    "logs:DescribeLogGroups": "Step Functions vended logs: AWS requires Resource '*'",
    "billing:UpdateBillingPreferences": "billing preferences have no resource-level permissions",
    "billing:GetBillingPreferences": "billing preferences have no resource-level permissions",
    "iam:ListOrganizationsFeatures": "organization-wide read of IAM's features, no resource-level permissions",
    "states:SendTaskSuccess": "a task token is not a resource: AWS defines no resource type for it",
    "xray:PutTraceSegments": "X-Ray supports no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray supports no resource-level permissions",
    "ce:GetCostAndUsage": "Cost Explorer defines no resource type for cost and usage queries: AWS requires '*'",
}

# AWS managed policies a role may carry (by name), each with the reason.
MANAGED_POLICIES_ALLOWED = {
    "AWSLambdaBasicExecutionRole": "a function writes its own CloudWatch Logs",
    "AWSXrayWriteOnlyAccess": "Tracing: Active (functions) and Tracing.Enabled (state machine)",
}
TABLE = "AWS::DynamoDB::Table"
MACHINE = "AWS::StepFunctions::StateMachine"
MANAGED_POLICY_ARN = re.compile(r"^arn:aws:iam::aws:policy/(?:service-role/)?(?P<name>[\w+=,.@-]+)$")


def actions_of(cfn: dict[str, Any], role_id: str, intrinsics: Intrinsics | None = None) -> set[str]:
    return {
        action
        for s in inline_statements(cfn["Resources"][role_id], intrinsics)
        for action in statement_actions(s)
    }


def test_every_function_has_exactly_its_expected_actions(cfn, lambda_functions, intrinsics):
    # With people's access through IAM Identity Center on: the widest the stack grants.
    actual = {
        function_id: actions_of(cfn, role_of_function(cfn, function_id), intrinsics)
        for function_id in lambda_functions
    }
    assert actual == EXPECTED_ACTIONS


def test_every_function_has_a_role_of_its_own(cfn, lambda_functions):
    roles = [role_of_function(cfn, function_id) for function_id in lambda_functions]
    assert len(set(roles)) == len(roles), f"functions share roles: {roles}"


def key_policy_paths(cfn) -> set[str]:
    """KMS key policies: their Resource "*" means "this key", checked on their own below."""
    return {f"/{key_id}/Properties/KeyPolicy" for key_id in resources_of_type(cfn, "AWS::KMS::Key")}


def identity_and_resource_statements(cfn):
    keys = key_policy_paths(cfn)
    return [
        (path, st) for path, st in all_policy_statements(cfn["Resources"]) if not path.startswith(tuple(keys))
    ]


def test_key_policies_delegate_to_iam_and_let_services_only_encrypt(cfn):
    keys = resources_of_type(cfn, "AWS::KMS::Key")
    assert keys
    for key_id, key in keys.items():
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        # AWS's default key policy statement: the account's IAM policies decide who administers the key.
        [admin] = [st for st in statements if st["Action"] == "kms:*"]
        assert admin["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
        for statement in statements:
            if statement is admin:
                continue
            assert "Service" in statement["Principal"], (key_id, statement)
            assert set(statement_actions(statement)) <= {"kms:GenerateDataKey*", "kms:Decrypt"}, statement
            assert "aws:SourceAccount" in statement["Condition"]["StringEquals"], statement


def test_no_statement_grants_a_wildcard_action(cfn):
    # A Deny may name every action of a service: denying more grants nothing (the cost report bucket's
    # TLS-only statement denies s3:* without TLS, the form AWS documents). An Allow never may.
    statements = identity_and_resource_statements(cfn)
    assert statements, "found no policy statements at all"
    offending = {
        path: statement
        for path, statement in statements
        if (
            statement.get("Effect") != "Deny"
            and any("*" in action for action in statement_actions(statement))
        )
        or ("NotAction" in statement or "NotResource" in statement)
    }
    assert offending == {}
    denies = [statement for _, statement in statements if statement.get("Effect") == "Deny"]
    assert all(statement.get("Condition") for statement in denies), "a Deny of everything, always"


def test_resource_wildcard_only_for_allow_listed_actions(cfn):
    offending = {}
    for path, statement in identity_and_resource_statements(cfn):
        if "*" in as_list(statement.get("Resource", [])):
            not_allowed = set(statement_actions(statement)) - set(RESOURCE_WILDCARD_ALLOWED)
            if not_allowed:
                offending[path] = sorted(not_allowed)
    assert offending == {}


def test_roles_carry_only_allow_listed_managed_policies(cfn, intrinsics):
    roles = resources_of_type(cfn, "AWS::IAM::Role")
    assert roles
    found = {}
    for role_id, role in roles.items():
        # Resolved as a list: a hub deployment's policy (an Fn::If, AWS::NoValue here) drops out.
        for arn in intrinsics.resolve(role["Properties"].get("ManagedPolicyArns", [])):
            match = MANAGED_POLICY_ARN.match(str(arn))
            found.setdefault(role_id, set()).add(match["name"] if match else str(arn))
    not_allowed = {role_id: names - set(MANAGED_POLICIES_ALLOWED) for role_id, names in found.items()}
    assert {role_id: names for role_id, names in not_allowed.items() if names} == {}


def test_every_function_may_write_its_logs(cfn, lambda_functions, intrinsics):
    for function_id in lambda_functions:
        role = cfn["Resources"][role_of_function(cfn, function_id)]
        names = {
            match["name"]
            for arn in role["Properties"].get("ManagedPolicyArns", [])
            if (match := MANAGED_POLICY_ARN.match(str(intrinsics.resolve(arn))))
        }
        assert "AWSLambdaBasicExecutionRole" in names, function_id


@pytest.mark.parametrize("access_role_names", [None, "A,B", "OrganizationAccountAccessRole,Ops.Admin@x"])
def test_assume_role_is_limited_to_the_access_role_names(cfn, access_role_names):
    intrinsics = Intrinsics(cfn, {"AccessRoleNames": access_role_names} if access_role_names else None)
    names = intrinsics.parameters["AccessRoleNames"].split(",")
    expected = [f"arn:aws:iam::*:role/{name}" for name in names]

    assume_role_resources = {}
    for role_id, role in resources_of_type(cfn, "AWS::IAM::Role").items():
        for statement in inline_statements(role):
            if "sts:AssumeRole" in statement_actions(statement):
                resources = intrinsics.resolve(statement["Resource"])
                assume_role_resources.setdefault(role_id, []).extend(as_list(resources))

    assert assume_role_resources, "no role may assume the access role"
    for role_id, resources in assume_role_resources.items():
        assert resources == expected, role_id
        assert "*" not in resources


def test_assume_role_names_are_the_names_record_request_accepts(cfn, lambda_functions):
    # RecordRequest validates a request's roleName against ACCESS_ROLE_NAMES; ApplyBaseline then
    # assumes that role. Both must come from the same list, whatever the parameter says.
    intrinsics = Intrinsics(cfn, {"AccessRoleNames": "First,Second-Role"})
    allowed = intrinsics.resolve(
        lambda_functions["RecordRequestFunction"]["Properties"]["Environment"]["Variables"][
            "ACCESS_ROLE_NAMES"
        ]
    ).split(",")
    role = cfn["Resources"][role_of_function(cfn, "ApplyBaselineFunction")]
    (statement,) = [s for s in inline_statements(role) if "sts:AssumeRole" in statement_actions(s)]
    assumable = [arn.rsplit("/", 1)[1] for arn in intrinsics.resolve(statement["Resource"])]
    assert assumable == allowed == ["First", "Second-Role"]


# What each state machine's role may do beyond invoking its workflow's functions and delivering its
# logs: action -> the table (logical ID) it may do it on, nothing else.
STATE_MACHINE_DATA_ACTIONS: dict[str, dict[str, str]] = {
    # LookForCreationSlot: waiting onboardings read the creation semaphore's item (no Lambda invocation).
    "OnboardAccountStateMachine": {"dynamodb:GetItem": "RegistryTable"},
    # RecordSettingsFailure: a failed account added to the run's item (no Lambda invocation).
    "KeepSettingsStateMachine": {"dynamodb:UpdateItem": "RegistryTable"},
}
# A Distributed Map runs its items as child executions of its own state machine: starting them, and
# following or stopping them, on that state machine only.
STATE_MACHINE_CHILD_ACTIONS: dict[str, dict[str, str]] = {
    "KeepSettingsStateMachine": {
        "states:StartExecution": "arn:aws:states:{region}:{account}:stateMachine:{name}",
        "states:DescribeExecution": "arn:aws:states:{region}:{account}:execution:{name}/*",
        "states:StopExecution": "arn:aws:states:{region}:{account}:execution:{name}/*",
    },
}


def workflow_functions(cfn: dict[str, Any], state_machine_id: str) -> set[str]:
    substitutions = cfn["Resources"][state_machine_id]["Properties"]["DefinitionSubstitutions"]
    found = set()
    for value in substitutions.values():
        target = get_att_target(value)
        if target and cfn["Resources"][target[0]]["Type"] == "AWS::Lambda::Function":
            found.add(target[0])
    return found


def test_state_machine_role_invokes_only_the_workflow_functions(cfn, state_machine_id, intrinsics):
    functions = workflow_functions(cfn, state_machine_id)
    assert functions
    role_target = get_att_target(cfn["Resources"][state_machine_id]["Properties"]["RoleArn"])
    assert role_target is not None
    role = cfn["Resources"][role_target[0]]

    data_actions = STATE_MACHINE_DATA_ACTIONS.get(state_machine_id, {})
    child_actions = STATE_MACHINE_CHILD_ACTIONS.get(state_machine_id, {})
    expected = {"lambda:InvokeFunction"} | VENDED_LOGS_ACTIONS | set(data_actions) | set(child_actions)
    assert actions_of(cfn, role_target[0]) == expected
    name = intrinsics.physical_name(state_machine_id)
    for statement in inline_statements(role):
        for action in set(statement_actions(statement)) & set(child_actions):
            resources = as_list(intrinsics.resolve(statement["Resource"]))
            arn = child_actions[action].format(region=REGION, account=ACCOUNT_ID, name=name)
            assert resources == [arn], f"{state_machine_id}: {action} on {resources}"
    for statement in inline_statements(role):
        for action in set(statement_actions(statement)) & set(data_actions):
            resources = as_list(intrinsics.resolve(statement["Resource"]))
            assert resources == [intrinsics.arn(data_actions[action])], (
                f"{state_machine_id}: {action} on {resources}"
            )

    invocable = {}
    for statement in inline_statements(role):
        if "lambda:InvokeFunction" not in statement_actions(statement):
            continue
        for resource in as_list(intrinsics.resolve(statement["Resource"])):
            # A function ARN, optionally qualified (":*", or SAM LambdaInvokePolicy's trailing "*").
            owners = [
                function_id
                for function_id in functions
                if re.fullmatch(re.escape(intrinsics.arn(function_id)) + r"(?:\*|:\*|:[\w$-]+)?", resource)
            ]
            assert len(owners) == 1, f"lambda:InvokeFunction on {resource}, not one workflow function"
            invocable[owners[0]] = resource
    assert set(invocable) == functions


def test_data_permissions_target_the_resources_the_function_is_configured_with(
    cfn, lambda_functions, intrinsics
):
    # A function is told its table, topic, bus and state machine through its environment; its
    # role's data permissions must name exactly those (tables: their indexes too), nothing else.
    for function_id, function in lambda_functions.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        configured = {ref_target(value) for value in variables.values()} - {None}
        tables = [r for r in configured if r in cfn["Resources"] and intrinsics.resource_type(r) == TABLE]
        machines = [r for r in configured if r in cfn["Resources"] and intrinsics.resource_type(r) == MACHINE]
        allowed = {
            "dynamodb": {
                arn
                for t in tables
                for arn in (
                    intrinsics.arn(t),
                    f"{intrinsics.arn(t)}/index/*",
                    *(
                        f"{intrinsics.arn(t)}/index/{index['IndexName']}"
                        for index in cfn["Resources"][t]["Properties"].get("GlobalSecondaryIndexes", [])
                    ),
                )
            },
            "sns": {intrinsics.resolve(variables["OPERATOR_TOPIC_ARN"])}
            if "OPERATOR_TOPIC_ARN" in variables
            else set(),
            "events": {
                f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{intrinsics.resolve(variables['EVENT_BUS_NAME'])}"
            },
            # The state machine, its executions, and its Distributed Maps' runs.
            "states": {
                arn
                for m in machines
                for arn in (
                    intrinsics.arn(m),
                    f"arn:aws:states:{REGION}:{ACCOUNT_ID}:execution:{intrinsics.physical_name(m)}:*",
                    f"arn:aws:states:{REGION}:{ACCOUNT_ID}:mapRun:{intrinsics.physical_name(m)}/*",
                )
            },
        }
        role = cfn["Resources"][role_of_function(cfn, function_id)]
        for statement in inline_statements(role, intrinsics):
            resources = set(as_list(statement["Resource"]))
            for action in statement_actions(statement):
                service = action.split(":", 1)[0]
                if resources == {"*"} and action in RESOURCE_WILDCARD_ALLOWED:
                    continue  # no resource type to name (test_resource_wildcard_only_for_allow_listed_actions)
                if service in allowed:
                    assert resources <= allowed[service], f"{function_id}: {action} on {sorted(resources)}"


# -- the accounts' budgets (orgvend/budgets.py) ----------------------------------------------------------

ORGVEND_BUDGETS = f"arn:aws:budgets::{ACCOUNT_ID}:budget/orgvend-*"


def test_budgets_are_granted_on_orgvends_budgets_only(cfn, lambda_functions, intrinsics):
    granted = {}
    for function_id in lambda_functions:
        for statement in inline_statements(cfn["Resources"][role_of_function(cfn, function_id)], intrinsics):
            actions = {action for action in statement_actions(statement) if action.startswith("budgets:")}
            if actions:
                assert as_list(statement["Resource"]) == [ORGVEND_BUDGETS], (function_id, statement)
                assert actions <= BUDGETS, (function_id, actions)
                granted.setdefault(function_id, set()).update(actions)
    assert set(granted) == {
        "CreateBudgetFunction",
        "DeleteBudgetFunction",
        "ReconcileRegistryFunction",
        "ApiFunction",
        "ReportMonthlyCostsFunction",  # reads the limits only (test_template_costs)
    }


def test_budgets_may_publish_its_alerts_to_the_operators_topic_for_this_account_only(cfn, intrinsics):
    [policy] = resources_of_type(cfn, "AWS::SNS::TopicPolicy").values()
    assert [ref_target(topic) for topic in policy["Properties"]["Topics"]] == ["OperatorTopic"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_service = {statement["Principal"]["Service"]: statement for statement in statements}
    # Budgets' alerts; and CloudWatch's alarms, which SNS's default policy admitted before this one replaced it.
    assert set(by_service) == {"budgets.amazonaws.com", "cloudwatch.amazonaws.com"}
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement_actions(statement) == ["sns:Publish"]
        assert ref_target(statement["Resource"]) == "OperatorTopic"
        assert intrinsics.resolve(statement["Condition"]["StringEquals"]["aws:SourceAccount"]) == ACCOUNT_ID
    budgets = by_service["budgets.amazonaws.com"]["Condition"]
    assert intrinsics.resolve(budgets["ArnLike"]["aws:SourceArn"]) == f"arn:aws:budgets::{ACCOUNT_ID}:*"
    # The topic is encrypted: Budgets may use its key (to encrypt what it publishes), and nothing more.
    [key] = resources_of_type(cfn, "AWS::KMS::Key").values()
    [services] = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if "budgets.amazonaws.com" in as_list(statement["Principal"].get("Service", []))
    ]
    assert set(statement_actions(services)) == {"kms:GenerateDataKey*", "kms:Decrypt"}
