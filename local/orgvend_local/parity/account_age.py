"""Time passes for an account: a local-only control that sets when an account joined the organization.

In AWS an account created in the organization can leave it only some days after its creation
(``WAIT_PERIOD_ACTIVE``); the embedded AWS lives minutes, so its accounts never grow old enough.
This patch adds one route to moto's own control API (beside ``/moto-api/reset``, ``/moto-api/seed``…):

    POST /moto-api/orgvend/organizations/account-joined
    {"accountId": "111122223333", "joinedTimestamp": "2026-11-20T00:00:00Z"}

It sets the account's ``JoinedTimestamp`` (what ``DescribeAccount`` and ``ListAccounts`` answer, and
what orgvend's detach preconditions read) and answers the account as ``DescribeAccount`` would show
it. ``orgvend-local age-account`` is its client.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.moto_api._internal import urls as moto_api_urls

from orgvend import rules
from orgvend_local.parity.organizations import all_organizations_backends
from orgvend_local.parity.patch import Emulator, Patcher, declared, still, stock_moto

ACCOUNT_JOINED_PATH = "/moto-api/orgvend/organizations/account-joined"
ACCOUNT_ID = rules.ACCOUNT_ID_PATTERN  # the one spelling of an account ID (orgvend.rules)

Response = tuple[int, dict[str, str], str]


class AgeRefused(ValueError):
    """What the route answers 4xx with: ``status`` and AWS-like ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 instant with its offset (``Z`` or ``+00:00``), in UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone (write it as 2026-11-20T00:00:00Z)")
    return moment.astimezone(UTC)


def set_joined(account_id: str, joined: datetime, now: datetime | None = None) -> dict[str, Any]:
    """Make the embedded Organizations say the account joined at ``joined``; the account as described."""
    if not ACCOUNT_ID.match(account_id):
        raise AgeRefused(400, "InvalidInputException", f"{account_id!r} is not an account ID (12 digits)")
    if joined.tzinfo is None:
        raise AgeRefused(400, "InvalidInputException", "the join time needs a time zone")
    if joined > (now or datetime.now(UTC)):
        raise AgeRefused(400, "InvalidInputException", f"{joined.isoformat()} is in the future")
    for backend in all_organizations_backends():
        for account in backend.accounts:
            if account.id == account_id:
                account.create_time = joined.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC
                described = account.describe()
                return {
                    "AccountId": account.id,
                    "Name": account.name,
                    "JoinedMethod": described["JoinedMethod"],
                    "JoinedTimestamp": joined.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                }
    raise AgeRefused(
        404, "AccountNotFoundException", f"account {account_id} is not in the embedded Organizations"
    )


def _json(status: int, body: dict[str, Any]) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def account_joined(request: Any, _full_url: str, _headers: Any) -> Response:
    """The route's handler (moto's ``(request, url, headers) -> (status, headers, body)``)."""
    if request.method != "POST":
        return _json(405, {"code": "MethodNotAllowed", "message": "POST a JSON body"})
    try:
        body = json.loads(request.get_data() or b"{}")
        if not isinstance(body, dict):
            raise AgeRefused(400, "InvalidInputException", "the body is a JSON object")
        try:
            joined = parse_timestamp(str(body["joinedTimestamp"]))
        except KeyError as missing:
            raise AgeRefused(400, "InvalidInputException", f"{missing.args[0]} is missing") from None
        except ValueError as error:
            raise AgeRefused(400, "InvalidInputException", f"joinedTimestamp: {error}") from None
        return _json(200, {"Account": set_joined(str(body.get("accountId", "")), joined)})
    except json.JSONDecodeError:
        return _json(400, {"code": "InvalidInputException", "message": "the body is not JSON"})
    except AgeRefused as refused:
        return _json(refused.status, {"code": refused.code, "message": str(refused)})


def apply_account_joined_route(patcher: Patcher, _emulator: Emulator) -> None:
    """moto builds its control API's routes from this module's ``url_paths`` when the server first serves
    ``/moto-api``: a copy with one route more."""
    paths: dict[str, Callable[..., Any]] = dict(moto_api_urls.url_paths)
    paths["{0}" + ACCOUNT_JOINED_PATH] = account_joined
    patcher.replace(moto_api_urls, "url_paths", paths)


def canary_account_joined_route() -> None:
    with stock_moto():
        routes = [path for path in moto_api_urls.url_paths if "organizations" in path or "account" in path]
        still(not routes, f"moto's control API now has {routes}")


ACCOUNT_JOINED_ROUTE = declared(
    "organizations-account-age", apply=apply_account_joined_route, canary=canary_account_joined_route
)
