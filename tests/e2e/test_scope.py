"""orgvend's managed scope, on the embedded AWS laid out like a real organization.

The Clients OU is orgvend's scope. Beside it, the Security OU holds the log-archive
account, and other accounts sit at the root: orgvend must leave all of them exactly
as they are, whatever event or reconciliation comes, and only the stack's own
account may ask it for an account.
"""

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from .conftest import Harness, hooked, request_for
from .events import MANAGEMENT_ACCOUNT_ID, accept_handshake, api_call, create_account_result

pytestmark = pytest.mark.e2e
POLICY = "OrgvendAdministratorMinusBilling"
ACCESS_ROLE = "OrganizationAccountAccessRole"
MANAGEMENT_ROOT = f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:root"
# Who the access role's narrowed trust may admit: orgvend's functions (their roles' path, template.yaml's
# ORGVEND_PRINCIPAL_ARNS) and the operators (samconfig.toml's local OperatorPrincipalArns).
ORGVEND_FUNCTIONS = f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/orgvend/member-access/*"
OPERATORS = {
    f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/ops-*",
    f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:user/moto",
}
OTHER_ACCOUNT = "210987654321"


def execution_name(idempotency_key: str) -> str:
    """The onboarding ID orgvend derives from an event's ID (orgvend.workflows.onboardings.execution_name). Not
    imported: importing orgvend's modules here would build Powertools' metrics before any function's
    environment names their namespace, and every function in this process would then fail to flush them."""
    return "k-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Outsider:
    """A member account outside orgvend's scope, and the role its administrators reach it through."""

    account_id: str
    label: str
    role_name: str = ACCESS_ROLE
    create_request_id: str = "car-examplerequest"


def onboarded(embedded: Harness, unique: str, **overrides: Any) -> tuple[str, dict[str, Any]]:
    """A new account onboarded by orgvend: (account ID, the workflow's final state)."""
    execution = embedded.wait(embedded.start(request_for(unique, **overrides)))
    assert execution["status"] == "SUCCEEDED", execution
    state = json.loads(execution["output"])
    return str(state["account"]["accountId"]), state


def registry_status(embedded: Harness, account_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    return embedded.eventually(
        lambda: (item := embedded.account_item(account_id)) and item["status"] == status and item,
        timeout=timeout,
        what=f"account {account_id} {status}",
    )


def handled(embedded: Harness, logical_id: str, before: int, count: int = 1) -> None:
    embedded.eventually(
        lambda: embedded.invocations(logical_id) >= before + count, what=f"{logical_id} invoked {count} times"
    )


def organizations_tags(embedded: Harness, account_id: str) -> dict[str, str]:
    tags = embedded.client("organizations").list_tags_for_resource(ResourceId=account_id)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def role_state(embedded: Harness, account_id: str, role_name: str = ACCESS_ROLE) -> dict[str, Any]:
    """The role as its account's IAM has it: trust policy, attached and inline policies."""
    iam = embedded.member_iam(account_id, role_name)
    return {
        "trust": iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"],
        "attached": sorted(
            policy["PolicyArn"]
            for policy in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        ),
        "inline": sorted(iam.list_role_policies(RoleName=role_name)["PolicyNames"]),
    }


def registry_items_about(embedded: Harness, account_id: str) -> list[dict[str, Any]]:
    """Every registry item that names the account, anywhere (its entry, email guard, onboardings...)."""
    deserializer = TypeDeserializer()
    paginator = embedded.client("dynamodb").get_paginator("scan")
    items = [
        {name: deserializer.deserialize(value) for name, value in item.items()}
        for page in paginator.paginate(TableName=embedded.outputs["RegistryTableName"])
        for item in page["Items"]
    ]
    return sorted((item for item in items if account_id in repr(item)), key=repr)


def snapshot(embedded: Harness, outsider: Outsider) -> dict[str, Any]:
    """Everything orgvend could change about an account outside its scope."""
    state = {
        "parent": embedded.parent_of(outsider.account_id),
        "tags": organizations_tags(embedded, outsider.account_id),
        "role": role_state(embedded, outsider.account_id, outsider.role_name),
        "registry": registry_items_about(embedded, outsider.account_id),
    }
    if outsider.role_name != ACCESS_ROLE:  # and orgvend did not make one
        iam = embedded.member_iam(outsider.account_id, outsider.role_name)
        with pytest.raises(ClientError, match="NoSuchEntity"):
            iam.get_role(RoleName=ACCESS_ROLE)
    return state


def nothing_about(embedded: Harness, outsiders: list[Outsider], since: int) -> None:
    """No adoption was started for the outsiders, and the operators were told nothing about them since
    message ``since`` (other tests of the session may have refused one by name, as they should)."""
    messages = " ".join(message["Message"] for message in embedded.operator_messages()[since:])
    for outsider in outsiders:
        assert embedded.executions_named(f"adopt-{outsider.account_id}") == [], outsider.label
        assert outsider.account_id not in messages, outsider.label


def delivered(entry: dict[str, Any], account: str = MANAGEMENT_ACCOUNT_ID) -> dict[str, Any]:
    """A PutEvents entry as EventBridge hands it to a target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": "2026-11-28T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def requested(event_id: str, detail: dict[str, Any], account: str = MANAGEMENT_ACCOUNT_ID) -> dict[str, Any]:
    return delivered(
        {"Source": "orgvend", "DetailType": "Account Requested", "Detail": json.dumps(detail)}, account
    ) | {"id": event_id}


def started_onboardings(embedded: Harness) -> int:
    """Executions of the onboarding workflow other than adoptions (which reconciliations may start)."""
    paginator = embedded.client("stepfunctions").get_paginator("list_executions")
    arn = embedded.outputs["OnboardAccountStateMachineArn"]
    return sum(
        1
        for page in paginator.paginate(stateMachineArn=arn)
        for execution in page["executions"]
        if not execution["name"].startswith("adopt-")
    )


def invocation_log(embedded: Harness, logical_id: str, text: str) -> str:
    """The log of the one invocation of the function whose lines mention ``text``."""
    logs = embedded.client("logs")
    group = f"/aws/lambda/{embedded.function_name(logical_id)}"
    found = logs.filter_log_events(logGroupName=group, filterPattern=f'"{text}"')["events"]
    streams = {event["logStreamName"] for event in found}
    assert len(streams) == 1, (text, streams)
    events = logs.get_log_events(logGroupName=group, logStreamName=streams.pop())["events"]
    return "\n".join(event["message"] for event in events)


def rejection_counted(embedded: Harness, event_id: str) -> None:
    """The rejection of the event was counted: its invocation emitted the RequestsRejected metric."""
    log = invocation_log(embedded, "StartRequestedOnboardingFunction", event_id)
    assert '"RequestsRejected":[1.0]' in log.replace(" ", ""), log


def marked_at(item: dict[str, Any]) -> int:
    """When the entry was marked OUT_OF_SCOPE, in epoch seconds (the re-adoption is named after it)."""
    return int(datetime.fromisoformat(item["updatedAt"]).timestamp())


def trust_patterns(trust: dict[str, Any]) -> set[str]:
    """The aws:PrincipalArn patterns the access role's trust admits; every statement must name some."""
    patterns: set[str] = set()
    for statement in trust["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole", statement
        assert statement["Principal"] == {"AWS": MANAGEMENT_ROOT}, statement
        arn_like = statement["Condition"]["ArnLike"]["aws:PrincipalArn"]
        patterns |= {arn_like} if isinstance(arn_like, str) else set(arn_like)
    return patterns


def sts_as(embedded: Harness, credentials: dict[str, Any]) -> Any:
    return embedded.runtime.session.client(
        "sts",
        endpoint_url=embedded.runtime.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def management_role(embedded: Harness, name: str) -> Any:
    """A role of the management account that its root trusts, assumed with the default credentials: its STS."""
    iam = embedded.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": MANAGEMENT_ROOT}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    credentials = embedded.client("sts").assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    return sts_as(embedded, credentials)


def refused(sts: Any, role_arn: str, session_name: str) -> None:
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)
    assert raised.value.response["Error"]["Code"] == "AccessDenied", raised.value.response


# --------------------------------------------------------------------------- the organization


@pytest.fixture(scope="module")
def outsiders(embedded: Harness) -> Iterator[list[Outsider]]:
    """The log archive in Security, and members outside the scope that orgvend might be tempted by."""
    layout = embedded.layout
    slug = uuid.uuid4().hex[:8]
    at_root_request, at_root = embedded.create_member(
        f"aws+{slug}-root@example.com",
        "root-member",
        parent=layout.root_id,
        Tags=[{"Key": "client", "Value": f"c{slug}"}, {"Key": "project", "Value": "web"}],
    )
    in_security_request, in_security = embedded.create_member(
        f"aws+{slug}-security@example.com", "audit", parent=layout.security_ou_id
    )
    roleless_request, roleless = embedded.create_member(
        f"aws+{slug}-roleless@example.com",
        "no-access-role",
        parent=layout.root_id,
        RoleName="SomebodyElsesRole",
    )
    assert embedded.parent_of(layout.log_archive_account_id) == layout.security_ou_id
    yield [
        Outsider(layout.log_archive_account_id, "log archive (Security)"),
        Outsider(at_root, "member at the root", create_request_id=at_root_request),
        Outsider(in_security, "member in Security", create_request_id=in_security_request),
        Outsider(
            roleless, "member at the root without the access role", "SomebodyElsesRole", roleless_request
        ),
    ]


def test_the_organization_is_laid_out_like_a_real_one(embedded: Harness, outsiders: list[Outsider]) -> None:
    layout = embedded.layout
    organizations = embedded.client("organizations")
    units = {
        unit["Name"]: unit["Id"]
        for unit in organizations.list_organizational_units_for_parent(ParentId=layout.root_id)[
            "OrganizationalUnits"
        ]
    }
    assert (units["Clients"], units["Security"]) == (layout.clients_ou_id, layout.security_ou_id)
    archive = organizations.describe_account(AccountId=layout.log_archive_account_id)["Account"]
    assert archive["Email"] == "aws+log-archive@example.com"
    assert embedded.parent_of(layout.log_archive_account_id) == layout.security_ou_id
    function = embedded.client("lambda").get_function_configuration(
        FunctionName=embedded.function_name("ReconcileRegistryFunction")
    )
    assert function["Environment"]["Variables"]["CLIENTS_PARENT_OU_ID"] == layout.clients_ou_id


def test_reconciliation_leaves_every_account_outside_the_scope_alone(
    embedded: Harness, outsiders: list[Outsider]
) -> None:
    before = {outsider: snapshot(embedded, outsider) for outsider in outsiders}
    since = len(embedded.operator_messages())
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    with hooked([("before-parameter-build", record)]):  # every AWS call orgvend's functions make
        result = embedded.invoke("ReconcileRegistryFunction", {})

    assert result["outside"] >= len(outsiders)  # counted...
    repaired = {repair["accountId"] for repair in result["repairs"]}
    for outsider in outsiders:
        assert outsider.account_id not in repaired, outsider.label
        # ...never looked at, one by one: no call names an account outside the scope.
        about = [name for name, params in calls if outsider.account_id in json.dumps(params, default=str)]
        assert about == [], (outsider.label, about)
        assert snapshot(embedded, outsider) == before[outsider], outsider.label
    assert {name for name, _ in calls} >= {"ListAccountsForParent", "ListOrganizationalUnitsForParent"}
    nothing_about(embedded, outsiders, since)


def test_organizations_events_about_accounts_outside_the_scope_change_nothing(
    embedded: Harness, outsiders: list[Outsider]
) -> None:
    layout = embedded.layout
    organization_id = embedded.client("organizations").describe_organization()["Organization"]["Id"]
    # Someone tags an outsider as if it were orgvend's, with a client and a project: still not orgvend's.
    tempting = [
        {"Key": "managed-by", "Value": "orgvend"},
        {"Key": "client", "Value": "tempting"},
        {"Key": "project", "Value": "bait"},
    ]
    embedded.client("organizations").tag_resource(ResourceId=outsiders[2].account_id, Tags=tempting)
    before = {outsider: snapshot(embedded, outsider) for outsider in outsiders}
    since = len(embedded.operator_messages())

    events: list[dict[str, Any]] = []
    for outsider in outsiders:
        where = before[outsider]["parent"]
        elsewhere = layout.root_id if where == layout.security_ou_id else layout.security_ou_id
        events += [
            create_account_result(outsider.create_request_id, outsider.account_id),
            accept_handshake(outsider.account_id, organization_id),
            api_call(
                "MoveAccount",
                {"accountId": outsider.account_id, "sourceParentId": elsewhere, "destinationParentId": where},
            ),
            api_call(
                "TagResource",
                {
                    "resourceId": outsider.account_id,
                    "tags": [{"key": t["Key"], "value": t["Value"]} for t in tempting],
                },
            ),
        ]
    invoked = embedded.invocations("FollowOrganizationFunction")
    for event in events:  # through EventBridge, as CloudTrail delivers them...
        embedded.put_event(event)
    handled(embedded, "FollowOrganizationFunction", invoked, len(events))
    for event in events:  # ...and once more straight to the function, to read what it decided
        reaction = embedded.invoke("FollowOrganizationFunction", delivered(event))
        assert reaction["action"] == "outside-scope", reaction

    for outsider in outsiders:
        assert snapshot(embedded, outsider) == before[outsider], outsider.label
    nothing_about(embedded, outsiders, since)


def test_an_account_request_from_another_account_starts_nothing(embedded: Harness, unique: str) -> None:
    assert embedded.runtime.template is not None
    rule = embedded.runtime.template.enabled_resources("AWS::Serverless::Function")[
        "StartRequestedOnboardingFunction"
    ]["Properties"]["Events"]["AccountRequested"]["Properties"]["Pattern"]
    assert embedded.runtime.template.resolve(rule)["account"] == [MANAGEMENT_ACCOUNT_ID]  # the rule's check

    # PutEvents stamps the caller's account: deliver one from another account straight to the function.
    request = request_for(unique)
    event_id = f"from-elsewhere-{unique}"
    before = started_onboardings(embedded)
    outcome = embedded.invoke("StartRequestedOnboardingFunction", requested(event_id, request, OTHER_ACCOUNT))

    assert outcome["outcome"] == "rejected"
    assert outcome["reason"].startswith(
        f"account: events are accepted only from account {MANAGEMENT_ACCOUNT_ID}"
    )
    assert embedded.executions_named(execution_name(f"event:{event_id}")) == []
    assert started_onboardings(embedded) == before
    assert embedded.registry_item(f"EMAIL#{request['email']}", "EMAIL") is None
    message = embedded.operator_message_about(event_id)["Message"]
    assert "was not started" in message and "Nothing was created" in message
    rejection_counted(embedded, event_id)


def test_an_account_request_for_an_email_outside_the_allowed_domains_starts_nothing(
    embedded: Harness, unique: str
) -> None:
    domain = f"u{unique}.example.org"
    request = request_for(unique, email=f"aws+{unique}@{domain}")
    before, invoked = started_onboardings(embedded), embedded.invocations("StartRequestedOnboardingFunction")
    embedded.put_event(
        {"Source": "orgvend", "DetailType": "Account Requested", "Detail": json.dumps(request)}
    )
    handled(embedded, "StartRequestedOnboardingFunction", invoked)

    message = embedded.operator_message_about(f"the domain {domain}")["Message"]
    assert "was not started" in message and "AllowedEmailDomains" in message
    assert "Nothing was created" in message
    assert started_onboardings(embedded) == before
    assert embedded.registry_item(f"EMAIL#{request['email']}", "EMAIL") is None

    # The same, delivered straight to the function: rejected, with the reason.
    event_id = f"domain-{unique}"
    outcome = embedded.invoke("StartRequestedOnboardingFunction", requested(event_id, request))
    assert (outcome["outcome"], outcome["reason"].split(":")[0]) == ("rejected", "email")
    assert started_onboardings(embedded) == before
    rejection_counted(embedded, event_id)


def test_an_account_moved_out_of_the_scope_is_marked_and_managed_again_once_back(
    embedded: Harness, unique: str
) -> None:
    layout = embedded.layout
    account_id, _ = onboarded(embedded, unique)
    home = embedded.parent_of(account_id)
    embedded.move_account(account_id, layout.security_ou_id)
    embedded.put_event(
        api_call(
            "MoveAccount",
            {"accountId": account_id, "sourceParentId": home, "destinationParentId": layout.security_ou_id},
        )
    )
    item = registry_status(embedded, account_id, "OUT_OF_SCOPE")
    assert item["email"] == f"aws+{unique}@example.com"  # kept

    # Out of the scope, nothing more is done to it: a tag change leaves its entry as it is.
    embedded.client("organizations").tag_resource(
        ResourceId=account_id, Tags=[{"Key": "cost-center", "Value": "7"}]
    )
    invoked = embedded.invocations("FollowOrganizationFunction")
    embedded.put_event(
        api_call("TagResource", {"resourceId": account_id, "tags": [{"key": "cost-center", "value": "7"}]})
    )
    handled(embedded, "FollowOrganizationFunction", invoked)
    assert embedded.account_item(account_id) == item
    assert embedded.parent_of(account_id) == layout.security_ou_id

    embedded.move_account(account_id, home)
    embedded.put_event(
        api_call(
            "MoveAccount",
            {"accountId": account_id, "sourceParentId": layout.security_ou_id, "destinationParentId": home},
        )
    )
    managed_again(embedded, account_id, f"adopt-{account_id}-{marked_at(item)}", home)


def managed_again(embedded: Harness, account_id: str, adoption: str, home: str) -> None:
    item = registry_status(embedded, account_id, "ACTIVE")
    executions = embedded.executions_named(adoption)
    assert len(executions) == 1, adoption
    assert embedded.wait(executions[0]["executionArn"])["status"] == "SUCCEEDED"
    assert item["ouId"] == home == embedded.parent_of(account_id)  # adopted where it stands
    assert organizations_tags(embedded, account_id)["managed-by"] == "orgvend"
    role = role_state(embedded, account_id)
    assert role["attached"] == [f"arn:aws:iam::{account_id}:policy/{POLICY}"]  # baselined
    assert trust_patterns(role["trust"]) == {ORGVEND_FUNCTIONS, *OPERATORS}


def test_reconciliation_marks_an_account_moved_out_without_an_event_and_takes_it_back(
    embedded: Harness, unique: str
) -> None:
    layout = embedded.layout
    account_id, _ = onboarded(embedded, unique)
    home = embedded.parent_of(account_id)
    embedded.move_account(account_id, layout.security_ou_id)  # no event

    result = embedded.invoke("ReconcileRegistryFunction", {})
    actions = {repair["accountId"]: repair["action"] for repair in result["repairs"]}
    assert actions[account_id] == "marked OUT_OF_SCOPE"
    item = registry_status(embedded, account_id, "OUT_OF_SCOPE")
    again = embedded.invoke("ReconcileRegistryFunction", {})  # known to be outside: nothing more
    assert account_id not in {repair["accountId"] for repair in again["repairs"]}
    assert embedded.account_item(account_id) == item
    assert embedded.parent_of(account_id) == layout.security_ou_id

    embedded.move_account(account_id, home)  # back, no event either
    result = embedded.invoke("ReconcileRegistryFunction", {})
    actions = {repair["accountId"]: repair["action"] for repair in result["repairs"]}
    assert actions[account_id] == "adopted"
    managed_again(embedded, account_id, f"adopt-{account_id}-{marked_at(item)}", home)


def test_the_access_role_trusts_only_orgvends_functions_and_the_operators(
    embedded: Harness, unique: str
) -> None:
    account_id, state = onboarded(embedded, unique)
    role_arn = f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE}"
    trust = role_state(embedded, account_id)["trust"]
    assert trust_patterns(trust) == {ORGVEND_FUNCTIONS, *OPERATORS}
    # orgvend's functions that open the role are the ones under that path.
    lambdas, iam = embedded.client("lambda"), embedded.client("iam")
    function = lambdas.get_function_configuration(
        FunctionName=embedded.function_name("ApplyBaselineFunction")
    )
    assert (
        iam.get_role(RoleName=function["Role"].rsplit("/", 1)[-1])["Role"]["Path"]
        == "/orgvend/member-access/"
    )

    # A principal of the management account that the trust does not list is refused, whatever its session.
    intruder = management_role(embedded, "intruder")
    refused(intruder, role_arn, "intruder")
    refused(intruder, role_arn, "orgvend-intruder")
    # (The refusal is the narrowed trust's: the same intruder opens a role that still trusts the whole
    # management account, as the log archive's does, which orgvend never touches.)
    archive_role = f"arn:aws:iam::{embedded.layout.log_archive_account_id}:role/{ACCESS_ROLE}"
    assert intruder.assume_role(RoleArn=archive_role, RoleSessionName="intruder")["Credentials"]
    # An operator gets in, but not under a session name reserved to orgvend's functions.
    operator = management_role(embedded, f"ops-{unique}")
    assert operator.assume_role(RoleArn=role_arn, RoleSessionName="ops-check")["Credentials"]
    refused(operator, role_arn, "orgvend-ops")

    # orgvend's own function still opens the role: ApplyBaseline again finds nothing to change.
    baseline = embedded.invoke(
        "ApplyBaselineFunction", {"onboarding": state["onboarding"], "accountId": account_id}
    )
    assert (baseline["roleArn"], baseline["changed"]) == (role_arn, False)
    assert role_state(embedded, account_id)["trust"] == trust


def test_the_guardrail_is_attached_to_the_clients_ou(embedded: Harness) -> None:
    layout = embedded.layout

    def scps(target: str) -> set[str]:
        answer = embedded.aws_cli(
            "organizations",
            "list-policies-for-target",
            "--target-id",
            target,
            "--filter",
            "SERVICE_CONTROL_POLICY",
        )
        return {policy["Name"] for policy in answer["Policies"]}

    assert "orgvend-guardrail" in scps(layout.clients_ou_id)
    assert "orgvend-guardrail" not in scps(layout.security_ou_id)
    assert "orgvend-guardrail" not in scps(layout.root_id)


def test_an_adopted_account_back_without_its_role_is_managed_again_once_the_role_exists(
    embedded: Harness, unique: str
) -> None:
    _, account_id = embedded.create_member(f"aws+{unique}@example.com", "adopted")  # in the Clients OU
    embedded.invoke("ReconcileRegistryFunction", {})
    registry_status(embedded, account_id, "ACTIVE")
    home = embedded.parent_of(account_id)
    embedded.move_account(account_id, embedded.layout.security_ou_id)
    embedded.invoke("ReconcileRegistryFunction", {})
    registry_status(embedded, account_id, "OUT_OF_SCOPE")

    # Outside, its administrators replace the access role (they keep a spare way in).
    iam = embedded.member_iam(account_id)
    spare_trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": MANAGEMENT_ROOT}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName="Spare", AssumeRolePolicyDocument=spare_trust)
    for policy in iam.list_attached_role_policies(RoleName=ACCESS_ROLE)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=ACCESS_ROLE, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=ACCESS_ROLE)
    embedded.move_account(account_id, home)
    embedded.invoke("ReconcileRegistryFunction", {})
    registry_status(embedded, account_id, "NEEDS_ROLE")

    spare = embedded.member_iam(account_id, "Spare")
    spare.create_role(RoleName=ACCESS_ROLE, AssumeRolePolicyDocument=spare_trust)
    spare.attach_role_policy(RoleName=ACCESS_ROLE, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    result = embedded.invoke("ReconcileRegistryFunction", {})
    assert {"accountId": account_id, "action": "adopted"} in result["repairs"]
    registry_status(embedded, account_id, "ACTIVE", timeout=20)
