"""Access (issue 14): IAM Identity Center assignments for 200 accounts x 3 access rules, paced and throttled.

Run: .venv/bin/python bench/bench_access.py [--accounts 200] [--clients 20] [--throttle-every 7]
[--other-permission-sets 0]

moto in-process (``mock_aws``): its sso-admin has one Identity Center instance, its identitystore the
groups. The stack's three rules of the README (every account, the client's, the project's) over
200 accounts of 20 clients (10 projects each): 600 assignments, 221 groups. Each account's
AssignAccess is one ``keep_access`` with a fresh ``IdentityCenter``, as the function builds one per
invocation (functions/onboarding/assign_access/app.py), through orgvend's own clients (standard
retries, orgvend.aws.CLIENT_CONFIG).

- Throttling: every 7th CreateAccountAssignment request is answered ThrottlingException once (a
  ``before-send`` hook, inside botocore's retry loop; the throttled request never reaches moto).
  botocore's retry back-off is recorded instead of slept, and counted in the simulated time.
- Pacing: moto answers at once, so the time AWS would take is simulated: every Identity Center
  request (each HTTP attempt, retries included, both services) takes a slot of a token bucket at
  ``IDENTITY_CENTER_TPS``; retry back-off and orgvend's own status polls add their seconds.
- ``--other-permission-sets N``: the instance also holds N permission sets orgvend does not keep (an
  agency's own); ``keep_access`` finds its two by describing every permission set of the instance.
- Then a second pass over the 200 accounts (a reconciliation, or every onboarding redriven):
  creates nothing.

Figures: all 600 created, none twice (ListAccountAssignments per account and permission set shows
each expected group exactly once and nothing else), wall time, simulated time at the documented rate,
calls per API (``before-call``: one per API call) and HTTP attempts (``before-send``), throttles
absorbed. Exits 1 when an assignment is missing, doubled or unexpected, or a pass raised.
"""

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
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
import botocore.endpoint  # noqa: E402
from benchkit import say  # noqa: E402
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders  # noqa: E402
from moto import mock_aws  # noqa: E402

from orgvend import aws  # noqa: E402
from orgvend.access.assignments import AccessSetup, keep_access  # noqa: E402
from orgvend.access.identity_center import IdentityCenter  # noqa: E402
from orgvend.access.permission_sets import keep_permission_sets, kept_specs  # noqa: E402
from orgvend.access.rules import parse_access_rules  # noqa: E402
from orgvend.models import AccountAccess  # noqa: E402

REGION = "us-east-1"
# IAM Identity Center User Guide, "IAM Identity Center quotas", Throttle limits
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html): "IAM Identity Center APIs
# have a collective throttle maximum of 20 transactions per second (TPS). The CreateAccountAssignment
# has a maximum rate of 10 outstanding async calls. These quotas cannot be changed."
# Assumed here: the Identity Store's calls (ListGroups) share the same 20 TPS (the page names no
# separate figure for them; counting them in is the pessimistic reading).
IDENTITY_CENTER_TPS = 20.0
CREATE_ASSIGNMENT_OUTSTANDING = 10  # orgvend waits for each assignment: one outstanding per AssignAccess
RULES = (
    "agency-ops=AdministratorMinusBilling",
    "{client}-developers=AdministratorMinusBilling",
    "{client}-{project}-readonly=ReadOnlyAccess",
)
THROTTLED_URL = "https://throttled.invalid/"


@dataclass
class Pacer:
    """A simulated clock: each request waits for a token of a bucket refilled at ``tps`` (burst of one)."""

    tps: float
    now: float = 0.0
    next_slot: float = 0.0
    waited_for_tokens: float = 0.0
    backoff: float = 0.0

    def request(self) -> None:
        if self.next_slot > self.now:
            self.waited_for_tokens += self.next_slot - self.now
            self.now = self.next_slot
        self.next_slot = self.now + 1.0 / self.tps

    def sleep(self, seconds: float) -> None:
        self.backoff += seconds
        self.now += seconds


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Hooks:
    """Counts (``before-call``: API calls; ``before-send``: HTTP attempts), pacing, injected throttling."""

    pacer: Pacer
    throttle_every: int
    calls: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    _creations: int = 0

    def before_call(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def before_send(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        event_name: str = kwargs["event_name"]
        service, operation = event_name.split(".")[1:3]
        self.attempts[f"{service}.{operation}"] += 1
        self.pacer.request()
        if operation != "CreateAccountAssignment" or not self.throttle_every:
            return None
        self._creations += 1
        if self._creations % self.throttle_every:
            return None
        # Every before-send handler runs (the first answer wins): pointed nowhere, the throttled
        # request is not answered by moto too. Its retry is a new request, counted afresh.
        self.throttled += 1
        request.url = THROTTLED_URL
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return AWSResponse(f"https://sso.{REGION}.amazonaws.com/", 400, headers, _Raw(body))

    def install(self, client: Any) -> None:
        client.meta.events.register("before-call", self.before_call)
        client.meta.events.register_first("before-send", self.before_send)


@dataclass(frozen=True)
class Account:
    account_id: str
    client: str
    project: str


def accounts(count: int, clients: int) -> list[Account]:
    per_client = max(1, count // clients)
    return [
        Account(
            f"{300000000000 + index:012d}", f"client{index // per_client:02d}", f"p{index % per_client:02d}"
        )
        for index in range(count)
    ]


def expected_groups(account: Account) -> dict[str, set[str]]:
    return {
        "AdministratorMinusBilling": {"agency-ops", f"{account.client}-developers"},
        "ReadOnlyAccess": {f"{account.client}-{account.project}-readonly"},
    }


@dataclass
class PassFigures:
    wall: float
    simulated: float
    tokens: float
    backoff: float
    created: int
    removed: int
    calls: Counter[str]
    attempts: Counter[str]
    throttled: int
    errors: list[str]


def run_pass(
    targets: list[Account],
    make_center: Any,
    setup: AccessSetup,
    hooks: Hooks,
    recorded: dict[str, AccountAccess],
) -> PassFigures:
    hooks.calls.clear()
    hooks.attempts.clear()
    hooks.throttled = 0
    pacer = hooks.pacer
    start_sim, start_tokens, start_backoff = pacer.now, pacer.waited_for_tokens, pacer.backoff
    created = removed = 0
    errors: list[str] = []
    started = time.perf_counter()
    for account in targets:
        try:
            access = keep_access(
                make_center(),
                setup,
                account_id=account.account_id,
                client=account.client,
                project=account.project,
                requested=[],
                recorded=recorded.get(account.account_id),
            )
        except Exception as error:  # a benchmark reports every failure
            errors.append(f"{account.account_id}: {type(error).__name__}: {error}")
            continue
        recorded[account.account_id] = access
        created += access.created
        removed += access.removed
    return PassFigures(
        wall=time.perf_counter() - started,
        simulated=pacer.now - start_sim,
        tokens=pacer.waited_for_tokens - start_tokens,
        backoff=pacer.backoff - start_backoff,
        created=created,
        removed=removed,
        calls=Counter(hooks.calls),
        attempts=Counter(hooks.attempts),
        throttled=hooks.throttled,
        errors=errors,
    )


def report(title: str, figures: PassFigures, accounts_count: int) -> None:
    say(f"{title}:")
    say(
        f"  created {figures.created}, removed {figures.removed}, errors {len(figures.errors)}; "
        f"wall {figures.wall:.2f} s ({figures.wall / accounts_count * 1000:.1f} ms an account)"
    )
    say(
        f"  simulated at {IDENTITY_CENTER_TPS:g} TPS: {figures.simulated:.1f} s "
        f"({figures.simulated / accounts_count:.2f} s an account; waiting for tokens {figures.tokens:.1f} s, "
        f"retry back-off {figures.backoff:.1f} s); throttled and retried: {figures.throttled}"
    )
    say(f"  {'API':50} {'calls':>6} {'attempts':>9}")
    for name in sorted(figures.attempts | figures.calls):
        say(f"  {name:50} {figures.calls[name]:6} {figures.attempts[name]:9}")
    say(
        f"  {'total':50} {sum(figures.calls.values()):6} {sum(figures.attempts.values()):9} "
        f"({sum(figures.calls.values()) / accounts_count:.1f} calls an account)"
    )
    for error in figures.errors[:5]:
        say(f"  error: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--throttle-every", type=int, default=7, help="throttle every Nth CreateAccountAssignment once"
    )
    parser.add_argument(
        "--other-permission-sets",
        type=int,
        default=0,
        help="permission sets of the instance orgvend does not keep",
    )
    arguments = parser.parse_args()
    targets = accounts(arguments.accounts, arguments.clients)
    pacer = Pacer(IDENTITY_CENTER_TPS)
    hooks = Hooks(pacer, arguments.throttle_every)
    # botocore's retry back-off: on the simulated clock, not slept.
    setattr(botocore.endpoint, "time", SimpleNamespace(sleep=pacer.sleep))  # noqa: B010 (a module attribute)

    with mock_aws():
        setup_session = boto3.session.Session(region_name=REGION)
        sso_admin_setup = setup_session.client("sso-admin")
        identity_store_setup = setup_session.client("identitystore")
        (instance,) = sso_admin_setup.list_instances()["Instances"]
        instance_arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
        names = sorted(
            {group for account in targets for groups in expected_groups(account).values() for group in groups}
        )
        group_ids = {
            name: identity_store_setup.create_group(IdentityStoreId=store_id, DisplayName=name)["GroupId"]
            for name in names
        }
        for index in range(arguments.other_permission_sets):
            sso_admin_setup.create_permission_set(InstanceArn=instance_arn, Name=f"Other{index:03d}")
        sso_admin = aws.identity_center_client("sso-admin", REGION)
        identity_store = aws.identity_center_client("identitystore", REGION)
        hooks.install(sso_admin)
        hooks.install(identity_store)
        kept = keep_permission_sets(
            sso_admin,
            instance_arn,
            kept_specs(
                partition="aws", baseline_policy_name="orgvend-baseline", access_role_names=("OrgvendAccess",)
            ),
            "PT8H",
            sleep=pacer.sleep,
        )
        arns = {each.name: each.arn for each in kept}
        setup = AccessSetup(
            rules=parse_access_rules(RULES),
            create_missing_groups=False,
            portal_url=f"https://{store_id}.awsapps.com/start",
            sso_region=REGION,
        )

        def make_center() -> IdentityCenter:
            return IdentityCenter(
                sso_admin=sso_admin,
                identity_store=identity_store,
                instance_arn=instance_arn,
                identity_store_id=store_id,
                sleep=pacer.sleep,
            )

        say(
            f"Access: {len(targets)} accounts of {arguments.clients} clients x {len(RULES)} rules = "
            f"{len(targets) * len(RULES)} assignments, {len(group_ids)} groups; every "
            f"{arguments.throttle_every}th CreateAccountAssignment request throttled once; "
            f"{arguments.other_permission_sets} other permission sets in the instance"
        )
        recorded: dict[str, AccountAccess] = {}
        first = run_pass(targets, make_center, setup, hooks, recorded)
        report("First pass (onboardings)", first, len(targets))

        # Verify: each account and permission set lists exactly the expected groups, each once.
        by_id = {group_id: name for name, group_id in group_ids.items()}
        doubled = missing = unexpected = listed_total = 0
        for account in targets:
            for permission_set, groups in expected_groups(account).items():
                listed = [
                    by_id.get(each["PrincipalId"], each["PrincipalId"])
                    for page in sso_admin_setup.get_paginator("list_account_assignments").paginate(
                        InstanceArn=instance_arn,
                        AccountId=account.account_id,
                        PermissionSetArn=arns[permission_set],
                    )
                    for each in page["AccountAssignments"]
                ]
                listed_total += len(listed)
                counts = Counter(listed)
                doubled += sum(count - 1 for count in counts.values() if count > 1)
                missing += len(groups - set(counts))
                unexpected += len(set(counts) - groups)
        expected_total = len(targets) * len(RULES)
        say(
            f"  listed afterwards: {listed_total} assignments (expected {expected_total}), "
            f"doubled {doubled}, missing {missing}, unexpected {unexpected}"
        )

        second = run_pass(targets, make_center, setup, hooks, recorded)
        report("Second pass (reconciliation / redrive: nothing to do)", second, len(targets))

    ideal = expected_total / IDENTITY_CENTER_TPS
    say(
        f"Floor: the {expected_total} CreateAccountAssignment calls alone take {ideal:.0f} s at "
        f"{IDENTITY_CENTER_TPS:g} TPS; the first pass's {sum(first.attempts.values())} requests "
        f"{sum(first.attempts.values()) / IDENTITY_CENTER_TPS:.0f} s. At most "
        f"{CREATE_ASSIGNMENT_OUTSTANDING} CreateAccountAssignment may be outstanding: each AssignAccess has one "
        "at a time (it waits for each), so up to that many accounts' AssignAccess may run at once."
    )
    goals = {
        f"all {expected_total} created": first.created == expected_total and listed_total == expected_total,
        "none twice": doubled == 0,
        "none missing or unexpected": missing == unexpected == 0,
        "second pass creates and removes nothing": second.created == second.removed == 0,
        "no pass raised": not first.errors and not second.errors,
        "every throttle absorbed by botocore's retries": first.throttled > 0 and not first.errors,
    }
    for goal, met in goals.items():
        say(f"  goal: {goal}: {'met' if met else 'MISSED'}")
    say(
        f"SUMMARY: access {len(targets)} accounts x {len(RULES)} rules: {first.created} created, doubled {doubled}, "
        f"{first.throttled} throttles absorbed; wall {first.wall:.1f} s, simulated {first.simulated:.0f} s at "
        f"{IDENTITY_CENTER_TPS:g} TPS ({sum(first.calls.values())} calls); second pass {second.created} created, "
        f"{sum(second.calls.values())} calls, simulated {second.simulated:.0f} s; "
        f"{'all goals met' if all(goals.values()) else 'GOALS MISSED'}"
    )
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
