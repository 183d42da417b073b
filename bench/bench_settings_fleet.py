"""Settings (issue 15): ``settings apply --all`` over 500 accounts, with throttling injected.

Run: .venv/bin/python bench/bench_settings_fleet.py [--accounts 500] [--clients 10] [--throttle 0.2]
[--seed 15] [--concurrency N]

The embedded AWS (moto's server, its Step Functions interpreter, the stack from template.yaml). The
fleet is made without 500 onboardings: CreateAccount in the embedded Organizations (creation latency 0;
the access role is made by it, trusting the management account), each account moved into its client's
OU under Clients and registered ACTIVE through ``Registry.write_account``, as an onboarding that applied
the built-in default profile (version 1) leaves it. The operators then store the default profile's next
version (the built-in one plus the agency's security desk as every account's security contact) and
re-apply it to the fleet: one execution of the KeepSettings state machine with
``{"mode": "apply", "selection": {"all": true}}`` (what ``orgvend settings apply --all`` starts).

The accounts differ from the profile in a known way (account k, made through the access role before the
run, not through orgvend): the alias is set for k % 4 != 0, the password policy for odd k, the S3 public
access block for k % 3 == 0, EBS encryption by default for k % 5 == 0, the security contact for
k % 4 in (0, 1); every account has its default VPC in us-east-1 (moto makes one per account and Region),
and for k % 10 == 0 it holds a security group someone made (kept, never deleted). So the run has to
create 1/4 of the aliases, half the password policies, 2/3 of the blocks, 4/5 of the encryptions, half
the contacts, and delete 9/10 of the default VPCs (their subnets and internet gateway first).

Throttling: a fraction (``--throttle``, default 0.2) of the HTTP attempts of the settings' calls
(IAM, EC2, S3 Control, Account Management) made inside KeepAccountSettings is answered with the
service's throttling error (``before-send`` on orgvend's botocore session: inside botocore's retry
loop, so its standard mode retries them as real ones; a throttled attempt never reaches moto). A call
throttled on all 4 of botocore's attempts raises, KeepAccountSettings fails ``SettingsThrottled`` and
the state machine's Retry runs the account again. botocore's retry back-off inside the handlers is
recorded, not slept (as bench_access does): the embedded AWS runs one Lambda invocation at a time, so
a sleep there would stall every account, which concurrent Lambdas in AWS would not.

Figures, per run: wall time and accounts per second; AWS calls per account by operation (``before-call``
counts one per API call; HTTP attempts beside), the mutating ones separately; peak concurrency of
KeepAccountSettings invocations as Step Functions dispatches them (in flight in moto's Lambda invoke)
against the bound, the stack parameter SettingsConcurrency (the Distributed Map's MaxConcurrencyPath);
throttles injected, botocore's retries, calls that exhausted them, the state machine's retries.
"Nothing applied twice": per account, each mutating call that AWS accepted (a 2xx answer: a throttled
attempt is not applied) counted per setting and resource (CreateAccountAlias, UpdateAccountPasswordPolicy,
PutPublicAccessBlock, EnableEbsEncryptionByDefault per Region, PutAlternateContact per contact type,
EnableRegion per Region, DeleteSubnet/…/DeleteVpc per resource): accounts with one applied twice
(goal 0), and every application checked against what the known drift requires (none missing, none
unexpected). Then a second run over the same accounts: no mutating call at all.

Exits 1 when a goal is missed: a run does not succeed or an account fails, anything applied twice,
missing or unexpected, or the second run changes something.
"""

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
from benchkit import moto_gaps, say, start_embedded
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from orgvend import aws
from orgvend.account_settings.models import DEFAULT_PROFILE, AlternateContact, AlternateContacts
from orgvend.models import AccountRecord, AccountStatus, AppliedSettings
from orgvend.registry import Registry

REGION = "us-east-1"
# For the model of a run in AWS only: what one HTTP attempt of IAM, EC2, S3 Control, Account Management,
# STS or DynamoDB takes from a Lambda in the same Region (an assumption, not a measurement or a quote).
ASSUMED_LATENCY = 0.1
ACCESS_ROLE = "OrganizationAccountAccessRole"
KEEP_FUNCTION = "KeepAccountSettingsFunction"
SETTINGS_SERVICES = frozenset({"iam", "ec2", "s3control", "account"})
READS = ("Get", "List", "Describe")
# What names the thing a mutating call changes, beside the account (and the Region, for EC2).
IDENTIFYING: dict[str, tuple[str, ...]] = {
    "PutAlternateContact": ("AlternateContactType",),
    "EnableRegion": ("RegionName",),
    "DeleteSubnet": ("SubnetId",),
    "DetachInternetGateway": ("InternetGatewayId", "VpcId"),
    "DeleteInternetGateway": ("InternetGatewayId",),
    "DeleteVpc": ("VpcId",),
}
SECURITY_DESK = AlternateContact(
    name="Agency security desk", title="Security", email="security@example.com", phone="+1 555 0100"
)
PROFILE = DEFAULT_PROFILE.model_copy(
    update={"alternate_contacts": AlternateContacts(security=SECURITY_DESK)}, deep=True
)
POLICY = PROFILE.password_policy
assert POLICY is not None


# --------------------------------------------------------------------------- throttling, per protocol


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


# (status, headers, body) of each service's throttling answer, in its protocol's shape.
THROTTLE_ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "iam": (
        400,
        {"Content-Type": "text/xml"},
        b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded (injected)"
        b"</Message></Error><RequestId>injected</RequestId></ErrorResponse>",
    ),
    "ec2": (
        503,
        {"Content-Type": "text/xml"},
        b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded. "
        b"(injected)</Message></Error></Errors><RequestID>injected</RequestID></Response>",
    ),
    "s3control": (
        503,
        {"Content-Type": "application/xml"},
        b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate. (injected)</Message>"
        b"<RequestId>injected</RequestId></Error>",
    ),
    "account": (
        429,
        {"Content-Type": "application/json", "x-amzn-ErrorType": "TooManyRequestsException"},
        b'{"message": "Rate exceeded (injected)"}',
    ),
}


# --------------------------------------------------------------------------- what one run saw


@dataclass
class RunFigures:
    """Everything counted during one run (reset between runs)."""

    calls: Counter[str] = field(default_factory=Counter)  # service.Operation, inside KeepAccountSettings
    attempts: Counter[str] = field(default_factory=Counter)  # HTTP attempts (retries included)
    other_calls: Counter[str] = field(default_factory=Counter)  # the run's other functions
    injected: Counter[str] = field(default_factory=Counter)  # throttled attempts, by service.Operation
    exhausted: Counter[str] = field(
        default_factory=Counter
    )  # calls that still failed after botocore's retries
    failed_calls: Counter[str] = field(default_factory=Counter)  # every call answered an error, by code
    retries: int = 0  # botocore's retries (its back-off sleeps) inside KeepAccountSettings
    backoff: float = 0.0  # their seconds, recorded instead of slept
    applied: Counter[tuple[str, ...]] = field(default_factory=Counter)  # (account, op, region, ids) -> 2xx
    refused_mutations: int = 0  # mutating calls that ended in an error (nothing applied)
    accounts_seen: set[str] = field(default_factory=set)
    invocations: int = 0
    invocation_errors: Counter[str] = field(default_factory=Counter)
    handler_seconds: float = 0.0
    peak_in_flight: int = 0
    peak_in_handler: int = 0
    in_flight_area: float = 0.0  # integral of in-flight invocations over time
    started: float = 0.0


class Observer:
    """Hooks on orgvend's botocore session and around KeepAccountSettings' invocations.

    - ``before-parameter-build``: one per API call (with the caller's parameters); ``before-send``: one
      per HTTP attempt, where the throttling is injected; ``after-call``: what the call ended with.
    - The in-process Lambda's ``invoke`` (before its one-at-a-time lock): invocations in flight, as Step
      Functions dispatches them; the handler (inside the lock): the account it works on, for the
      calls made with the access role's credentials (they do not name the account).
    - botocore's retry sleep, inside a handler: recorded, not slept.
    """

    def __init__(self, throttle: float, seed: int) -> None:
        self.throttle = throttle
        self.random = random.Random(seed)
        self.figures = RunFigures()
        self.local = threading.local()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.in_handler = 0
        self._last_change = time.monotonic()
        self.done_accounts: set[str] = set()

    def reset(self) -> RunFigures:
        with self.lock:
            figures, self.figures = self.figures, RunFigures(started=time.monotonic())
            self.done_accounts = set()
            self._last_change = time.monotonic()
        return figures

    # -- botocore hooks -------------------------------------------------------------

    def _account(self) -> str | None:
        return getattr(self.local, "account", None)

    def before_parameter_build(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        service, operation = model.service_model.service_name, model.name
        context["bench"] = {"service": service, "operation": operation, "params": dict(params)}
        name = f"{service}.{operation}"
        with self.lock:
            if self._account() is None:
                self.figures.other_calls[name] += 1
            else:
                self.figures.calls[name] += 1

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        tag = request.context.get("bench")
        if tag is None or self._account() is None:
            return None
        name = f"{tag['service']}.{tag['operation']}"
        with self.lock:
            self.figures.attempts[name] += 1
            throttled = tag["service"] in SETTINGS_SERVICES and self.random.random() < self.throttle
            if throttled:
                self.figures.injected[name] += 1
        if not throttled:
            return None
        status, headers, body = THROTTLE_ANSWERS[tag["service"]]
        return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _RawBody(body))

    def after_call(
        self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        tag = context.get("bench")
        account = self._account()
        if tag is None or account is None:
            return
        service, operation, params = tag["service"], tag["operation"], tag["params"]
        name = f"{service}.{operation}"
        ok = http_response.status_code < 300
        mutating = service in SETTINGS_SERVICES and not operation.startswith(READS)
        with self.lock:
            if not ok:
                code = str(parsed.get("Error", {}).get("Code", "?"))
                self.figures.failed_calls[f"{name} {code}"] += 1
                if request_was_throttled(code):
                    self.figures.exhausted[name] += 1
                if mutating:
                    self.figures.refused_mutations += 1
                return
            if mutating:
                target = str(params.get("AccountId", account))
                region = str(context.get("client_region")) if service == "ec2" else "-"
                ids = tuple(str(params.get(key)) for key in IDENTIFYING.get(operation, ()))
                self.figures.applied[(target, operation, region, *ids)] += 1

    def sleep(self, seconds: float) -> None:
        """botocore's retry back-off (``botocore.endpoint.time.sleep``)."""
        if self._account() is None:
            time.sleep(seconds)
            return
        with self.lock:
            self.figures.retries += 1
            self.figures.backoff += seconds

    def install(self) -> None:
        events = aws.session().events
        events.register("before-parameter-build", self.before_parameter_build)
        events.register_first("before-send", self.before_send)
        events.register("after-call", self.after_call)
        aws.reset()  # cached clients are rebuilt with the hooks
        setattr(botocore.endpoint, "time", SimpleNamespace(sleep=self.sleep))  # noqa: B010 (a module attribute)

    # -- around the invocations -------------------------------------------------------

    def _moved(self, change: int) -> None:
        """In-flight count changes (under ``self.lock``): integrate it over time, keep the peak."""
        moment = time.monotonic()
        self.figures.in_flight_area += self.in_flight * (moment - self._last_change)
        self._last_change = moment
        self.in_flight += change
        self.figures.peak_in_flight = max(self.figures.peak_in_flight, self.in_flight)

    def wrap(self, runtime: Any) -> None:
        lambdas = runtime.lambdas
        name = runtime.template.physical_name(KEEP_FUNCTION)
        original_invoke = lambdas.invoke

        def invoke(moto_function: Any, event: Any) -> tuple[str, bool, str]:
            if moto_function.function_name != name:
                return original_invoke(moto_function, event)  # type: ignore[no-any-return]
            with self.lock:
                self._moved(+1)
            try:
                return original_invoke(moto_function, event)  # type: ignore[no-any-return]
            finally:
                with self.lock:
                    self._moved(-1)

        lambdas.invoke = invoke  # the shim calls emulator.lambdas.invoke: this instance's attribute
        function = lambdas.functions[name]
        original_callable = function.handler_callable

        def handler_callable() -> Callable[[Any, Any], Any]:
            handler = original_callable()  # imported on the first call, inside the function's environment

            def observed(event: Any, context: Any) -> Any:
                payload = json.loads(event) if isinstance(event, str | bytes) else event
                account = str(payload["accountId"])
                began = time.perf_counter()
                with self.lock:
                    self.in_handler += 1
                    self.figures.peak_in_handler = max(self.figures.peak_in_handler, self.in_handler)
                    self.figures.invocations += 1
                    self.figures.accounts_seen.add(account)
                self.local.account = account
                try:
                    result = handler(event, context)
                except Exception as error:
                    with self.lock:
                        self.figures.invocation_errors[type(error).__name__] += 1
                    raise
                else:
                    with self.lock:
                        self.done_accounts.add(account)
                    return result
                finally:
                    self.local.account = None
                    with self.lock:
                        self.in_handler -= 1
                        self.figures.handler_seconds += time.perf_counter() - began

            return observed

        function.handler_callable = handler_callable


def request_was_throttled(code: str) -> bool:
    return code in {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "SlowDown",
        "TooManyRequestsException",
    }


# --------------------------------------------------------------------------- the fleet


@dataclass
class Member:
    index: int
    account_id: str
    client: str
    project: str
    ou_id: str

    @property
    def alias(self) -> str:
        return f"{self.client}-{self.project}"

    # The known drift (see the module's docstring).
    @property
    def has_alias(self) -> bool:
        return self.index % 4 != 0

    @property
    def has_password_policy(self) -> bool:
        return self.index % 2 == 1

    @property
    def has_public_access_block(self) -> bool:
        return self.index % 3 == 0

    @property
    def has_ebs_encryption(self) -> bool:
        return self.index % 5 == 0

    @property
    def has_security_contact(self) -> bool:
        return self.index % 4 in (0, 1)

    @property
    def vpc_in_use(self) -> bool:
        return self.index % 10 == 0

    def expected(self) -> Counter[str]:
        """The mutating calls the run must make in this account, once each (subnets and gateways aside)."""
        wanted: Counter[str] = Counter()
        wanted["CreateAccountAlias"] = not self.has_alias
        wanted["UpdateAccountPasswordPolicy"] = not self.has_password_policy
        wanted["PutPublicAccessBlock"] = not self.has_public_access_block
        wanted["EnableEbsEncryptionByDefault"] = not self.has_ebs_encryption
        wanted["PutAlternateContact"] = not self.has_security_contact
        wanted["DeleteVpc"] = not self.vpc_in_use
        return +wanted


def member_clients(runtime: Any, account_id: str, sts: Any) -> Callable[[str], Any]:
    """Clients acting in the member account through its access role (the setup's, not orgvend's)."""
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE}", RoleSessionName="bench-setup"
    )["Credentials"]
    return lambda name: runtime.session.client(
        name,
        region_name=REGION,
        endpoint_url=runtime.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def build_fleet(runtime: Any, count: int, clients: int) -> list[Member]:
    """``count`` ACTIVE accounts of ``clients`` clients, each differing from the profile as its index says."""
    organizations = runtime.client("organizations")
    sts = runtime.client("sts")
    account_management = runtime.session.client("account", endpoint_url=runtime.endpoint_url)
    clients_ou = runtime.layout.clients_ou_id
    names = [f"client{number:02d}" for number in range(clients)]
    client_ous = {
        name: organizations.create_organizational_unit(ParentId=clients_ou, Name=name)["OrganizationalUnit"][
            "Id"
        ]
        for name in names
    }
    root = runtime.layout.root_id
    registry = Registry(runtime.client("dynamodb"), runtime.template.physical_name("RegistryTable"))
    members: list[Member] = []
    stamp = datetime.now(UTC)
    began = time.perf_counter()
    for index in range(count):
        client = names[index % clients]
        project = f"p{index // clients:03d}"
        status = organizations.create_account(
            Email=f"aws+fleet{index:04d}@example.com", AccountName=f"{client}-{project}"
        )["CreateAccountStatus"]
        account_id = status["AccountId"]  # creation latency 0: SUCCEEDED at once
        organizations.move_account(
            AccountId=account_id, SourceParentId=root, DestinationParentId=client_ous[client]
        )
        member = Member(index, account_id, client, project, client_ous[client])
        members.append(member)
        registry.write_account(
            account_id,
            lambda _current, member=member: AccountRecord(
                account_id=member.account_id,
                account_name=member.alias,
                email=f"aws+fleet{member.index:04d}@example.com",
                client=member.client,
                project=member.project,
                role_name=ACCESS_ROLE,
                status=AccountStatus.ACTIVE,
                ou_id=member.ou_id,
                settings=AppliedSettings(
                    profile="default", version=DEFAULT_PROFILE.version, applied_at=stamp
                ),
                created_at=stamp,
                updated_at=stamp,
            ),
        )
        # What is already as the profile says, made through the access role (not through orgvend).
        client_of = member_clients(runtime, account_id, sts)
        iam = client_of("iam")
        if member.has_alias:
            iam.create_account_alias(AccountAlias=member.alias)
        if member.has_password_policy:
            iam.update_account_password_policy(
                MinimumPasswordLength=POLICY.minimum_password_length,
                RequireSymbols=POLICY.require_symbols,
                RequireNumbers=POLICY.require_numbers,
                RequireUppercaseCharacters=POLICY.require_uppercase_characters,
                RequireLowercaseCharacters=POLICY.require_lowercase_characters,
                AllowUsersToChangePassword=POLICY.allow_users_to_change_password,
                HardExpiry=POLICY.hard_expiry,
                MaxPasswordAge=POLICY.max_password_age or 0,
                PasswordReusePrevention=POLICY.password_reuse_prevention or 0,
            )
        if member.has_public_access_block:
            client_of("s3control").put_public_access_block(
                AccountId=account_id,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        ec2 = client_of("ec2")  # every account's EC2 made now (moto makes its default VPC on first use)
        if member.has_ebs_encryption:
            ec2.enable_ebs_encryption_by_default()
        if member.vpc_in_use:
            vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
                "VpcId"
            ]
            ec2.create_security_group(GroupName="someones-app", Description="made by hand", VpcId=vpc_id)
        else:
            ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
        if member.has_security_contact:
            account_management.put_alternate_contact(
                AccountId=account_id,
                AlternateContactType="SECURITY",
                Name=SECURITY_DESK.name,
                Title=SECURITY_DESK.title,
                EmailAddress=SECURITY_DESK.email,
                PhoneNumber=SECURITY_DESK.phone,
            )
        if (index + 1) % 100 == 0:
            say(f"  {index + 1} accounts made ({time.perf_counter() - began:.0f} s)")
    # The operators' change: the default profile's next version names the security desk.
    stored = registry.put_settings_profile(PROFILE, replacing=None)
    say(f"  default profile stored as version {stored.version} (the built-in one + a security contact)")
    return members


# --------------------------------------------------------------------------- a run


@contextmanager
def progress(observer: Observer, total: int, every: float = 15.0) -> Iterator[None]:
    stop = threading.Event()

    def tell() -> None:
        while not stop.wait(every):
            with observer.lock:
                done, invocations = len(observer.done_accounts), observer.figures.invocations
                in_flight = observer.in_flight
            elapsed = time.monotonic() - observer.figures.started
            say(
                f"    {elapsed:5.0f} s: {done}/{total} accounts done, {invocations} invocations, {in_flight} in flight"
            )

    thread = threading.Thread(target=tell, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_settings(
    runtime: Any, observer: Observer, total: int, timeout: float
) -> tuple[dict[str, Any], RunFigures, float]:
    sfn = runtime.client("stepfunctions")
    observer.reset()
    began = time.perf_counter()
    arn = sfn.start_execution(
        stateMachineArn=runtime.deployment.outputs["KeepSettingsStateMachineArn"],
        input=json.dumps({"mode": "apply", "selection": {"all": True}, "requestedBy": "bench"}),
    )["executionArn"]
    with progress(observer, total):
        deadline = time.monotonic() + timeout
        while True:
            execution = sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the run is still RUNNING after {timeout:.0f} s")
            time.sleep(0.25)
    wall = time.perf_counter() - began
    with observer.lock:
        observer._moved(0)
    figures = observer.reset()
    return dict(execution), figures, wall


def report_run(
    title: str, execution: dict[str, Any], figures: RunFigures, *, wall: float, accounts: int, bound: int
) -> dict[str, Any]:
    output = json.loads(execution.get("output") or "{}")
    run = output.get("run", {})
    outcomes = {outcome: len(ids) for outcome, ids in run.get("outcomes", {}).items()}
    calls = sum(figures.calls.values())
    attempts = sum(figures.attempts.values())
    injected = sum(figures.injected.values())
    settings_attempts = sum(
        count for name, count in figures.attempts.items() if name.split(".")[0] in SETTINGS_SERVICES
    )
    mutating = {name: count for name, count in figures.calls.items() if is_mutating(name)}
    applied = sum(figures.applied.values())
    say(f"{title}: {execution['status']} in {wall:.1f} s, {accounts / wall:.2f} accounts/s")
    say(f"  outcomes: {outcomes or '-'}; failures: {run.get('failures') or 'none'}")
    # What the run's item says each account's outcome was, against what was applied to it.
    changed = set(run.get("outcomes", {}).get("changed", []))
    mutated = {key[0] for key in figures.applied}
    misreported = sorted(mutated - changed)
    say(
        f"  accounts changed by the run: {len(mutated)} (an accepted mutating call); reported changed "
        f"{len(changed)}; changed but reported otherwise {len(misreported)}"
        + (
            f" ({', '.join(misreported[:5])}: changed by an attempt that then failed, found in sync by the retry)"
            if misreported
            else ""
        )
    )
    say(
        f"  KeepAccountSettings: {figures.invocations} invocations for {len(figures.accounts_seen)} accounts "
        f"({figures.invocations - len(figures.accounts_seen)} retried by the state machine"
        + (f": {dict(figures.invocation_errors)}" if figures.invocation_errors else "")
        + ")"
    )
    mean_in_flight = figures.in_flight_area / wall if wall else 0.0
    say(
        f"  concurrency: bound {bound} (SettingsConcurrency); peak in flight {figures.peak_in_flight} "
        f"(dispatched by the Distributed Map, in moto's Lambda invoke), mean {mean_in_flight:.1f}; "
        f"peak inside a handler {figures.peak_in_handler} (the embedded AWS runs one invocation at a time)"
    )
    say(
        f"  handlers: {figures.handler_seconds:.1f} s in all, {figures.handler_seconds / max(1, figures.invocations) * 1000:.0f} ms "
        f"an invocation; {figures.handler_seconds / wall:.0%} of the wall time under the one-at-a-time lock"
    )
    say(
        f"  AWS calls: {calls} ({calls / accounts:.1f} an account), {attempts} HTTP attempts; "
        f"mutating {sum(mutating.values())} ({sum(mutating.values()) / accounts:.2f} an account), "
        f"accepted {applied}, refused {figures.refused_mutations}"
    )
    say(
        f"  throttling: {injected} attempts throttled ({injected / max(1, settings_attempts):.1%} of the settings' {settings_attempts} attempts); "
        f"botocore retried {figures.retries} (back-off {figures.backoff:.1f} s recorded, not slept: "
        f"{figures.backoff / accounts:.2f} s an account); {sum(figures.exhausted.values())} calls still "
        f"throttled after 4 attempts" + (f" ({dict(figures.exhausted)})" if figures.exhausted else "")
    )
    if figures.failed_calls:
        say(f"  calls answered an error: {dict(figures.failed_calls.most_common())}")
    # In AWS the accounts' Lambdas run side by side: each account takes its calls' latency plus its back-off.
    per_account = attempts / accounts * ASSUMED_LATENCY
    per_account += figures.backoff / accounts
    say(
        f"  in AWS (a model, not measured): {ASSUMED_LATENCY * 1000:.0f} ms an HTTP attempt (assumed) + the "
        f"back-off = {per_account:.1f} s an account; {bound} at a time: {accounts / bound * per_account:.0f} s "
        f"for {accounts} accounts ({bound / per_account:.1f} accounts/s)"
    )
    say(f"  {'calls an account, by operation':52} {'calls':>7} {'/acct':>6} {'attempts':>9} {'throttled':>9}")
    for name in sorted(figures.calls, key=lambda n: (is_mutating(n), n)):
        marker = "*" if is_mutating(name) else " "
        say(
            f"  {marker} {name:50} {figures.calls[name]:7} {figures.calls[name] / accounts:6.2f} "
            f"{figures.attempts[name]:9} {figures.injected[name]:9}"
        )
    say("    (* mutating)")
    if figures.other_calls:
        say(
            "  the run's other steps (SelectSettingsAccounts, SummarizeSettingsRun): "
            + ", ".join(f"{name} {count}" for name, count in sorted(figures.other_calls.items()))
        )
    return {
        "outcomes": outcomes,
        "failures": run.get("failures") or {},
        "mutating": sum(mutating.values()),
        "misreported": misreported,
    }


def is_mutating(name: str) -> bool:
    service, operation = name.split(".", 1)
    return service in SETTINGS_SERVICES and not operation.startswith(READS)


def applied_twice(figures: RunFigures, members: list[Member]) -> tuple[set[str], list[str], list[str]]:
    """Accounts with a setting applied twice; mutating calls missing and unexpected against the known drift."""
    twice = {key[0] for key, count in figures.applied.items() if count > 1}
    by_account: dict[str, Counter[str]] = defaultdict(Counter)
    for key, count in figures.applied.items():
        by_account[key[0]][key[1]] += count
    missing: list[str] = []
    unexpected: list[str] = []
    for member in members:
        done = by_account.get(member.account_id, Counter())
        wanted = member.expected()
        for operation in wanted:
            if done[operation] < wanted[operation]:
                missing.append(f"{member.account_id} {operation}")
        for operation, count in done.items():
            if operation in {"DeleteSubnet", "DetachInternetGateway", "DeleteInternetGateway"}:
                if member.vpc_in_use:
                    unexpected.append(f"{member.account_id} {operation} (its default VPC is in use)")
                continue
            if count > wanted[operation]:
                unexpected.append(f"{member.account_id} {operation} x{count}")
    return twice, missing, unexpected


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument(
        "--throttle", type=float, default=0.2, help="fraction of the settings' attempts throttled"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="SettingsConcurrency (default: the template's own)"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds a run may take")
    arguments = parser.parse_args()
    parameters = {} if arguments.concurrency is None else {"SettingsConcurrency": str(arguments.concurrency)}
    runtime = start_embedded(0.0, parameters)
    bound = int(runtime.template.parameters["SettingsConcurrency"])
    source = "--concurrency" if arguments.concurrency is not None else "the template's default"
    say(
        f"settings fleet: {arguments.accounts} accounts of {arguments.clients} clients; SettingsConcurrency "
        f"{bound} ({source}); {arguments.throttle:.0%} of the settings' HTTP attempts throttled (seed {arguments.seed})"
    )
    began = time.perf_counter()
    members = build_fleet(runtime, arguments.accounts, arguments.clients)
    say(f"fleet made in {time.perf_counter() - began:.1f} s (Organizations, the registry, the known drift)")
    expected_total = sum((member.expected() for member in members), Counter())
    say(
        "  the run must: "
        + ", ".join(f"{operation} x{count}" for operation, count in sorted(expected_total.items()))
        + f" (and keep {sum(member.vpc_in_use for member in members)} default VPCs in use)"
    )

    observer = Observer(arguments.throttle, arguments.seed)
    observer.install()
    observer.wrap(runtime)

    first_execution, first, first_wall = run_settings(runtime, observer, len(members), arguments.timeout)
    first_report = report_run(
        "First run (apply --all)", first_execution, first, wall=first_wall, accounts=len(members), bound=bound
    )
    twice, missing, unexpected = applied_twice(first, members)
    say(
        f"  nothing applied twice: {len(twice)} accounts with a setting applied twice (goal 0); "
        f"{len(missing)} applications missing, {len(unexpected)} unexpected"
    )
    for line in [*sorted(twice)[:5], *missing[:5], *unexpected[:5]]:
        say(f"    {line}")

    second_execution, second, second_wall = run_settings(runtime, observer, len(members), arguments.timeout)
    second_report = report_run(
        "Second run (the same, nothing to do)",
        second_execution,
        second,
        wall=second_wall,
        accounts=len(members),
        bound=bound,
    )
    say(moto_gaps())

    accounts = len(members)
    goals = {
        "both runs succeed": first_execution["status"] == second_execution["status"] == "SUCCEEDED",
        "no account failed": not first_report["failures"] and not second_report["failures"],
        f"every account changed by the first run ({accounts})": first_report["outcomes"].get("changed")
        == accounts,
        "nothing applied twice": not twice,
        "nothing missing or unexpected": not missing and not unexpected,
        "throttles were injected (unless --throttle 0)": sum(first.injected.values()) > 0
        or not arguments.throttle,
        f"peak in flight <= SettingsConcurrency ({bound})": first.peak_in_flight <= bound
        and second.peak_in_flight <= bound,
        "the second run changes nothing": second_report["mutating"] == 0
        and second_report["outcomes"].get("unchanged") == accounts,
    }
    for goal, met in goals.items():
        say(f"  goal: {goal}: {'met' if met else 'MISSED'}")
    say(
        f"SUMMARY: settings apply --all, {accounts} accounts, {arguments.throttle:.0%} throttled: first run "
        f"{first_wall:.0f} s ({accounts / first_wall:.1f} accounts/s), {sum(first.calls.values()) / accounts:.1f} calls "
        f"and {first_report['mutating'] / accounts:.1f} mutating an account, peak {first.peak_in_flight} in flight "
        f"(bound {bound}), {sum(first.injected.values())} throttles, {len(twice)} accounts with a setting applied twice; "
        f"second run {second_wall:.0f} s, {second_report['mutating']} mutating calls; "
        f"{'all goals met' if all(goals.values()) else 'GOALS MISSED'}"
    )
    runtime.stop()
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
