"""``make run``: start the embedded AWS in the foreground and say how to use it.

``ORGVEND_MODE=hub make run`` (or ``--mode hub``) deploys the stack in a hub account and management-role.yaml
in the management account, as README's *Deploying: single account or hub* describes.

``orgvend-local age-account ACCOUNT_ID --days 8`` (in another terminal, while it runs) makes an
account of it older, so that a detach offboarding is allowed.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from orgvend_local import age

if TYPE_CHECKING:
    from orgvend_local.runtime import EmbeddedAws
    from orgvend_local.samples import Samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="orgvend-local",
        usage="%(prog)s [-h] [--port PORT] [--api-port API_PORT] [--mode {single,hub}] [--no-samples] "
        "[--creation-seconds SECONDS] [COMMAND ...]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=4566, help="AWS endpoint port (default 4566)")
    parser.add_argument("--api-port", type=int, default=3000, help="the HTTP API's port (default 3000)")
    parser.add_argument(
        "--mode",
        choices=("single", "hub"),
        default=os.environ.get("ORGVEND_MODE") or "single",
        help="where the stack runs: the management account (single, default) or a hub account "
        "(hub; also ORGVEND_MODE=hub)",
    )
    parser.add_argument(
        "--no-samples",
        action="store_true",
        help="start without the sample accounts and last month's sample costs",
    )
    parser.add_argument(
        "--creation-seconds",
        type=float,
        default=2.0,
        help="how long CreateAccount stays IN_PROGRESS (default 2)",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", help="without one: start the embedded AWS"
    )
    age.add_parser(commands)
    arguments = parser.parse_args(argv)
    if arguments.command == "age-account":
        sys.exit(age.run(arguments))
    serve(arguments)


def serve(arguments: argparse.Namespace) -> None:
    from orgvend_local import samples  # noqa: PLC0415 (moto: slow to import)
    from orgvend_local.runtime import OPERATOR_INBOX, EmbeddedAws  # noqa: PLC0415

    runtime = EmbeddedAws(
        port=arguments.port,
        api_port=arguments.api_port,
        creation_seconds=arguments.creation_seconds,
        mode=arguments.mode,
    )
    deployment = runtime.start()
    seeded = None if arguments.no_samples else samples.seed(runtime)
    endpoint = runtime.endpoint_url
    outputs = deployment.outputs
    layout, identity_center = runtime.layout, runtime.identity_center
    assert layout is not None and identity_center is not None
    print(
        f"""
orgvend is running on the embedded AWS at {endpoint} (moto; region us-east-1).
{deployment_text(runtime)}
The organization: orgvend manages the Clients OU {layout.clients_ou_id} (ClientsParentOuId) and what is in it;
beside it, the Security OU {layout.security_ou_id} holds a log-archive account {layout.log_archive_account_id}
that orgvend never touches.

IAM Identity Center: instance {identity_center.instance_arn}, access portal {identity_center.portal_url}
(moto serves no portal: the URL is the one orgvend hands out). Groups in its Identity Store, which
template.yaml's default AccessRules assign on every onboarding: {", ".join(identity_center.groups)}.
  aws --endpoint-url {endpoint} sso-admin list-account-assignments --instance-arn {identity_center.instance_arn} \\
    --account-id <accountId> --permission-set-arn <arn from: sso-admin list-permission-sets>

Stack outputs (from template.yaml):
"""
        + "".join(f"  {name:32} {value}\n" for name, value in outputs.items())
        + f"""
Not emulated: {", ".join(f"{logical_id} ({why})" for logical_id, why in deployment.skipped.items()) or "nothing"}

The HTTP API is served at {outputs.get("ApiUrl", "(no API)")} (the same handler as behind API Gateway):
  curl -X POST {outputs.get("ApiUrl")}/accounts -H 'content-type: application/json' \
    -d '{{"client": "acme", "project": "web", "email": "aws+acme-web@example.com"}}'
  curl {outputs.get("ApiUrl")}/onboardings/<onboardingId>
  curl -X POST {outputs.get("ApiUrl")}/accounts/<accountId>/offboard -H 'content-type: application/json' \
    -d '{{"mode": "close", "confirmAccountName": "acme-web"}}'   # or "detach" (an account created here is too young: AWS's 4 days)
  orgvend-local age-account <accountId> --days 8   # make it old enough to detach (sets its JoinedTimestamp)
  curl {outputs.get("ApiUrl")}/openapi.json

{samples_text(seeded, endpoint, outputs)}
In another terminal (the AWS CLI is in the project's venv):
  source .venv/bin/activate
  export {stack_credentials(runtime)} AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url {endpoint} stepfunctions start-execution \\
    --state-machine-arn {outputs["OnboardAccountStateMachineArn"]} \\
    --input '{{"client": "acme", "project": "web", "email": "aws+acme-web@example.com"}}'
  aws --endpoint-url {endpoint} stepfunctions describe-execution --execution-arn <executionArn>
  aws --endpoint-url {endpoint} stepfunctions start-execution \\
    --state-machine-arn {outputs["KeepSettingsStateMachineArn"]} \\
    --input '{{"mode": "check", "selection": {{"all": true}}}}'   # the settings drift check (not scheduled here)
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url {endpoint} organizations list-accounts
  aws --endpoint-url {endpoint} sqs receive-message --queue-url {runtime.operator_inbox_url}  # {OPERATOR_INBOX}

Ctrl-C stops it (everything lives in memory).
""",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    runtime.stop()
    sys.exit(0)


def deployment_text(runtime: "EmbeddedAws") -> str:
    """Where the stack is, and (hub) what the management account holds."""
    from orgvend_local.runtime import MANAGEMENT_ACCOUNT_ID  # noqa: PLC0415 (moto: slow to import)

    if runtime.mode == "single":
        return f"Single-account deployment: the stack is in the management account {MANAGEMENT_ACCOUNT_ID}.\n"
    assert runtime.layout is not None and runtime.management_deployment is not None
    management = runtime.management_deployment
    return f"""Hub deployment (ORGVEND_MODE=hub): the stack is in the hub account {runtime.stack_account_id}
(Infrastructure OU {runtime.layout.infrastructure_ou_id}, outside orgvend's scope). The management account
{MANAGEMENT_ACCOUNT_ID} holds management-role.yaml's stack only: the role {management.outputs["ManagementRoleArn"]}
and the rule {management.physical_ids.get("OrganizationEventsToHub", "(none)")} forwarding Organizations' events to the hub's bus.
The AWS CLI acts in the hub with the keys below; in the management account with AWS_ACCESS_KEY_ID=test.
"""


def stack_credentials(runtime: "EmbeddedAws") -> str:
    """The keys that act in the account holding the stack (moto knows an account by its keys)."""
    keys = runtime.hub_credentials or {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    return " ".join(f"{name}={value}" for name, value in keys.items())


def samples_text(seeded: "Samples | None", endpoint: str, outputs: dict[str, str]) -> str:
    """What the banner says of the sample accounts and their costs (nothing with --no-samples)."""
    if seeded is None:
        return ""
    accounts = ", ".join(
        f"{client}/{project} {account}" for (client, project), account in seeded.accounts.items()
    )
    return f"""Sample accounts (onboarded at start, --no-samples leaves them out): {accounts}.
Last month's costs ({seeded.month}) are queued in the embedded Cost Explorer and kept by orgvend:
  orgvend costs                       # per client; --by project|account, --format json|csv|html
  orgvend costs --by account --format html -o costs.html
  curl '{outputs.get("ApiUrl")}/costs?month={seeded.month}&groupBy=project'
Other months have no costs queued (moto answers GetCostAndUsage from a queue: tests/e2e/test_costs.py).
The monthly report (its schedule does not fire here): the CSV goes to the bucket {outputs.get("CostReportBucketName")}
  aws --endpoint-url {endpoint} lambda invoke --function-name orgvend-ReportMonthlyCostsFunction out.json
"""


if __name__ == "__main__":
    main()
