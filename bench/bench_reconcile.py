"""Reconciliation of an organization of 5,000 members of which 4,000 are outside orgvend's scope.

Run: .venv/bin/python bench/bench_reconcile.py [--members 5000] [--inside 1000]

moto in-process (``mock_aws``); the organization is built the way tests/unit/test_reconcile_registry.py
builds it (moto's own FakeAccount objects, as its CreateAccount makes them, without its quadratic cost):
the scope (a Clients OU with one OU per 100 accounts, as client OUs are), and outside it a Security OU,
a Workloads OU with nested OUs, and accounts left at the root. The registry holds the scope's accounts,
with drift: 3 accounts in the scope it does not know (adopted), one closed there (CLOSED), two that left
the organization (DETACHED), one moved from the scope into Security (OUT_OF_SCOPE) and one back in the
scope after it was moved out (adopted again).

Figures: calls by operation; calls that name an account outside the scope (goal: none, but the one
registered account that was moved out: where is it now?); every AssumeRole into an account outside (goal:
none); wall time of the reconciliation; the repairs. Exits 1 when a goal is missed.
"""

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

for _name, _value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Orgvend",
    "POWERTOOLS_SERVICE_NAME": "orgvend",
}.items():
    os.environ[_name] = _value
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402 (after the environment above)
from benchkit import ApiCalls, say  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.organizations.models import FakeAccount, organizations_backends  # noqa: E402

from orgvend import aws  # noqa: E402
from orgvend.models import AccountRecord, AccountStatus  # noqa: E402
from orgvend.organizations import PAGE_SIZE, Scope  # noqa: E402
from orgvend.reactions.reconcile_registry import reconcile_registry  # noqa: E402
from orgvend.registry import Registry  # noqa: E402
from orgvend.settings import Settings  # noqa: E402
from orgvend.workflows.onboardings import Onboardings  # noqa: E402
from orgvend_local.template import Template  # noqa: E402

# Calls that name one account: none may name an account outside the scope.
PER_ACCOUNT = {
    "DescribeAccount": "AccountId",
    "ListParents": "ChildId",
    "ListTagsForResource": "ResourceId",
    "TagResource": "ResourceId",
    "MoveAccount": "AccountId",
    "CloseAccount": "AccountId",
}


class OperationTimes:
    """Seconds spent inside each operation's call (``before-call`` to ``after-call`` on orgvend's session)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._started: dict[int, float] = {}

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _after(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        self.seconds[name] += time.perf_counter() - context.get("bench_started", time.perf_counter())

    def install(self) -> "OperationTimes":
        aws.session().events.register("before-call", self._before)
        aws.session().events.register("after-call", self._after)
        aws.reset()
        return self

    def uninstall(self) -> None:
        aws.session().events.unregister("before-call", self._before)
        aws.session().events.unregister("after-call", self._after)
        aws.reset()


def accounts(backend: Any, parent_id: str, count: int, prefix: str) -> list[tuple[str, str]]:
    made = []
    for index in range(count):
        account = FakeAccount(
            backend.org, AccountName=f"{prefix}{index}", Email=f"{prefix}{index}@example.com"
        )
        account.parent_id = parent_id
        backend.accounts.append(account)
        made.append((account.id, account.email))
    return made


def record(
    account_id: str, email: str, ou_id: str, status: AccountStatus = AccountStatus.ACTIVE
) -> AccountRecord:
    stamp = datetime.now(UTC)
    return AccountRecord(
        account_id=account_id,
        account_name=f"name-{account_id}",
        email=email,
        client=f"client{int(account_id) % 50}",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=status,
        ou_id=ou_id,
        created_at=stamp,
        updated_at=stamp,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--inside", type=int, default=1000)
    arguments = parser.parse_args()
    template = Template.load()
    with mock_aws():
        setup = boto3.session.Session(region_name="us-east-1")
        organizations = setup.client("organizations")
        management = organizations.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
        root = organizations.list_roots()["Roots"][0]["Id"]

        def ou(parent: str, name: str) -> str:
            return organizations.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"][
                "Id"
            ]

        clients, security, workloads = ou(root, "Clients"), ou(root, "Security"), ou(root, "Workloads")
        backend = organizations_backends[management]["aws"]
        client_ous = [ou(clients, f"client{index}") for index in range(max(1, arguments.inside // 100))]
        inside: list[tuple[str, str, str]] = []
        for index, client_ou in enumerate(client_ous):
            share = arguments.inside // len(client_ous) + (
                1 if index < arguments.inside % len(client_ous) else 0
            )
            inside += [(a, e, client_ou) for a, e in accounts(backend, client_ou, share, f"c{index}-")]
        outside_count = arguments.members - arguments.inside
        nested = [ou(ou(workloads, f"team{index}"), "prod") for index in range(5)]
        outside: list[tuple[str, str]] = accounts(backend, security, outside_count // 4, "sec")
        for index, team_ou in enumerate(nested):
            outside += accounts(backend, team_ou, outside_count // 2 // len(nested), f"team{index}-")
        outside += accounts(backend, root, outside_count - len(outside), "root")
        outside_ids = {account_id for account_id, _ in outside}

        table = template.physical_name("RegistryTable")
        properties = template.resources["RegistryTable"]["Properties"]
        setup.client("dynamodb").create_table(
            TableName=table,
            **{
                k: properties[k]
                for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            },
        )
        registry = Registry(aws.client("dynamodb"), table)  # arranging: writes the entries below
        closed, back_in = inside[3], inside[4]  # inside[:3]: in the scope, unknown to the registry
        organizations.close_account(AccountId=closed[0])
        departed = [
            ("900000000001", "gone1@example.com", clients),
            ("900000000002", "gone2@example.com", clients),
        ]
        moved_out = (*outside[0], clients)  # registered in the scope, since moved to Security
        known = [record(*entry) for entry in [*inside[5:], closed, *departed, moved_out]]
        known.append(record(*back_in, status=AccountStatus.OUT_OF_SCOPE))
        dynamodb = setup.client("dynamodb")
        items = [{"PutRequest": {"Item": registry._account_item(item, 1)}} for item in known]
        for start in range(0, len(items), 25):
            dynamodb.batch_write_item(RequestItems={table: items[start : start + 25]})

        role = setup.client("iam").create_role(RoleName="states", AssumeRolePolicyDocument="{}")["Role"][
            "Arn"
        ]
        machine = setup.client("stepfunctions").create_state_machine(
            name=template.physical_name("OnboardAccountStateMachine"),
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=role,
        )["stateMachineArn"]

        calls = ApiCalls().install()
        timing = OperationTimes().install()
        registry = Registry(aws.client("dynamodb"), table)  # its client built with the hooks
        started = time.perf_counter()
        drift = reconcile_registry(
            Scope(aws.client("organizations"), clients),
            organizations=aws.client("organizations"),
            sts=aws.client("sts"),
            registry=registry,
            onboardings=Onboardings(
                aws.client("stepfunctions"),
                registry,
                machine,
                Scope(aws.client("organizations"), clients),
                Settings(
                    registry_table_name=table,
                    operator_topic_arn="arn:aws:sns:us-east-1:123456789012:operators",
                    event_bus_name="default",
                    event_source="orgvend",
                    clients_parent_ou_id=clients,
                    allowed_email_domains=("example.com",),
                ),
            ),
            access_role_name="OrganizationAccountAccessRole",
        )
        seconds = time.perf_counter() - started
        timing.uninstall()
        calls.uninstall()

    named_outside = [
        (operation, params[PER_ACCOUNT[operation]])
        for _, operation, params in calls.calls
        if operation in PER_ACCOUNT and params.get(PER_ACCOUNT[operation]) in outside_ids
    ]
    assumed_outside = [
        params["RoleArn"]
        for _, operation, params in calls.calls
        if operation == "AssumeRole" and params["RoleArn"].split(":")[4] in outside_ids
    ]
    expected_outside = [("ListParents", moved_out[0])]
    repairs = Counter(repair.action for repair in drift.repairs)
    say(
        f"Organization: {arguments.members} members + the management account; "
        f"{arguments.inside} in the scope ({len(client_ous)} client OUs under Clients), "
        f"{len(outside)} outside (Security, Workloads' nested OUs, the root)."
    )
    say(
        f"Reconciliation: {seconds:.2f} s (moto in-process); members {drift.members}, registered {drift.registered}, outside {drift.outside}"
    )
    say("Calls by operation (count, seconds in the call, moto in-process):")
    for operation, count in sorted(calls.counts.items()):
        say(f"  {operation:55} {count:6} {timing.seconds[operation]:8.2f} s")
    pages = math.ceil((arguments.members + 1) / PAGE_SIZE)
    say(
        f"  (ListAccounts only counts what is outside: {pages} pages of {PAGE_SIZE}; "
        f"no call per account outside)"
    )
    say(f"Calls naming an account outside the scope: {named_outside or 'none'} (expected {expected_outside})")
    say(f"AssumeRole into an account outside the scope: {len(assumed_outside)}")
    say("Repairs: " + ", ".join(f"{action} x{count}" for action, count in sorted(repairs.items())))
    goals = {
        "no call names an account outside the scope but the one moved out": named_outside == expected_outside,
        "no AssumeRole outside the scope": not assumed_outside,
        "every drift repaired": repairs
        == Counter({"adopted": 4, "marked CLOSED": 1, "left the organization": 2, "marked OUT_OF_SCOPE": 1}),
        "outside counted": drift.outside == len(outside),
    }
    for goal, met in goals.items():
        say(f"  goal: {goal}: {'met' if met else 'MISSED'}")
    total = sum(calls.counts.values())
    per_outside = sum(1 for _ in named_outside) / max(1, len(outside))
    say(
        f"SUMMARY: reconcile {arguments.members} members ({len(outside)} outside): {seconds:.2f} s, {total} calls, "
        f"{per_outside:.4f} calls per out-of-scope account, {len(drift.repairs)} repairs; "
        f"{'all goals met' if all(goals.values()) else 'GOALS MISSED'}"
    )
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
