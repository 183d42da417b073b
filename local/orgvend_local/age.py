"""``orgvend-local age-account``: make an account of the running embedded AWS older.

AWS lets an account created in the organization leave it (a "detach" offboarding) only some days
after its creation; orgvend checks that first (CheckDetachPreconditions) and refuses a younger
account. Accounts on the embedded AWS are minutes old, so this sets when one joined the organization:
its ``JoinedTimestamp`` in Organizations, which is what the detach preconditions read.

It calls a local-only route of the embedded AWS (``POST /moto-api/orgvend/organizations/account-joined``,
parity patch ``organizations-account-age``); it never talks to real AWS.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from orgvend import rules

ACCOUNT_JOINED_PATH = "/moto-api/orgvend/organizations/account-joined"  # parity.account_age serves it
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
EPILOG = """\
examples:
  orgvend-local age-account 111122223333 --days 8
  orgvend-local age-account 111122223333 --joined 2026-11-20T00:00:00Z
  orgvend-local age-account 111122223333 --days 8 --endpoint-url http://127.0.0.1:4566

Then offboard it in detach mode (orgvend offboard ACCOUNT_ID --mode detach --confirm NAME,
or POST /accounts/<id>/offboard):
AWS lets an account created in the organization leave it only 4 days after its creation.
Exit status: 0 done, 1 the embedded AWS refused or is not running, 2 bad arguments."""


def account_id(text: str) -> str:
    if rules.account_id_problem(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AWS account ID (12 digits)")
    return text


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: the number of days must be 0 or more")
    return value


def joined(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (like 2026-11-20T00:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z for UTC: {text}Z)")
    moment = moment.astimezone(UTC)
    if moment > datetime.now(UTC):
        raise argparse.ArgumentTypeError(f"{text!r} is in the future")
    return moment


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "age-account",
        help="set when an account joined the organization (so that a detach is allowed)",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "account_id", metavar="ACCOUNT_ID", type=account_id, help="the member account (12 digits)"
    )
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--days", type=days, help="it joined this many days ago (a number, 0 or more; 8 = old enough)"
    )
    when.add_argument(
        "--joined",
        type=joined,
        metavar="TIMESTAMP",
        help="it joined at this time (ISO 8601 with a zone, e.g. ...Z)",
    )
    parser.add_argument(
        "--endpoint-url",
        default=DEFAULT_ENDPOINT,
        help=f"the embedded AWS that `make run` started (default {DEFAULT_ENDPOINT})",
    )
    return parser


def joined_at(arguments: argparse.Namespace, now: datetime) -> datetime:
    return arguments.joined if arguments.joined is not None else now - timedelta(days=arguments.days)


def set_account_joined(
    endpoint_url: str, account: str, when: datetime, timeout: float = 10
) -> dict[str, Any]:
    """Ask the embedded AWS to set the account's JoinedTimestamp; the account as it now is.

    RuntimeError with the emulator's message when it refuses or cannot be reached."""
    body = json.dumps(
        {"accountId": account, "joinedTimestamp": when.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    ).encode()
    request = urllib.request.Request(
        endpoint_url.rstrip("/") + ACCOUNT_JOINED_PATH,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return dict(json.loads(response.read())["Account"])
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            message = json.loads(text)["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {error.code}: {text[:200]}" + (
                " (is it the embedded AWS of `make run`, with the organizations-account-age patch?)"
                if error.code == 404
                else ""
            )
        raise RuntimeError(message) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RuntimeError(
            f"cannot reach the embedded AWS at {endpoint_url} ({reason}): is `make run` running?"
        ) from None


def run(arguments: argparse.Namespace) -> int:
    when = joined_at(arguments, datetime.now(UTC))
    try:
        account = set_account_joined(arguments.endpoint_url, arguments.account_id, when)
    except RuntimeError as error:
        print(f"orgvend-local age-account: error: {error}", file=sys.stderr)
        return 1
    print(
        f"account {account['AccountId']} ({account['Name']}, {account['JoinedMethod']}) "
        f"now joined the organization at {account['JoinedTimestamp']}"
    )
    return 0
