"""Account Management's Region opt-in (EnableRegion, GetRegionOptStatus, ListRegions), which moto lacks.

Each account starts with AWS's opt-in Regions DISABLED and the others ENABLED_BY_DEFAULT. EnableRegion
makes a Region ENABLING; it is ENABLED once it was read ENABLING once more, or after ``ENABLING_SECONDS``
(AWS takes minutes to hours: the embedded AWS shows the wait without making anyone sit through it).
Regions are kept per account, whichever account asks (the management account names a member with
``AccountId``), in a table that moto's reset forgets with the backends.
"""

import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from moto.account import urls as account_urls
from moto.account.models import AccountBackend, account_backends
from moto.account.responses import AccountResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult

from orgvend_local.parity.patch import Emulator, Patcher, declared, still, stock_moto

# AWS's opt-in Regions (AWS General Reference, "Enable or disable AWS Regions in your account").
OPT_IN_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
    }
)
ENABLED_BY_DEFAULT = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "sa-east-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
    }
)
ENABLING_SECONDS = 2.0
ROUTES = {
    "{0}/enableRegion$": AccountResponse.dispatch,
    "{0}/getRegionOptStatus$": AccountResponse.dispatch,
    "{0}/listRegions$": AccountResponse.dispatch,
}


@dataclass
class Enabling:
    since: float = field(default_factory=time.monotonic)
    reads: int = 0


# Per account backend (one per account): the opt-in Regions enabled or being enabled.
_OPTED_IN: "weakref.WeakKeyDictionary[AccountBackend, dict[str, Enabling | None]]" = (
    weakref.WeakKeyDictionary()
)


def _validation(message: str) -> JsonRESTError:
    return JsonRESTError("ValidationException", message)


def region_status(backend: AccountBackend, region: str, *, read: bool = True) -> str:
    if region in ENABLED_BY_DEFAULT:
        return "ENABLED_BY_DEFAULT"
    if region not in OPT_IN_REGIONS:
        raise _validation(f"{region} is not a valid Region name")
    opted = _OPTED_IN.setdefault(backend, {})
    if region not in opted:
        return "DISABLED"
    enabling = opted[region]
    if enabling is None:
        return "ENABLED"
    if enabling.reads >= 1 or time.monotonic() - enabling.since >= ENABLING_SECONDS:
        opted[region] = None
        return "ENABLED"
    if read:
        enabling.reads += 1
    return "ENABLING"


def _backend(response: AccountResponse) -> AccountBackend:
    account_id = response._get_param("AccountId") or response.current_account
    backend: AccountBackend = account_backends[account_id][response.partition]
    return backend


def enable_region(response: AccountResponse) -> EmptyResult:
    backend, region = _backend(response), str(response._get_param("RegionName"))
    status = region_status(backend, region, read=False)
    if status == "ENABLED_BY_DEFAULT":
        raise _validation(f"{region} is enabled by default and cannot be opted in")
    if status == "DISABLED":
        _OPTED_IN.setdefault(backend, {})[region] = Enabling()
    return EmptyResult()


def get_region_opt_status(response: AccountResponse) -> ActionResult:
    region = str(response._get_param("RegionName"))
    return ActionResult({"RegionName": region, "RegionOptStatus": region_status(_backend(response), region)})


def list_regions(response: AccountResponse) -> ActionResult:
    backend = _backend(response)
    wanted: list[str] = response._get_param("RegionOptStatusContains") or []
    regions: list[dict[str, Any]] = [
        {"RegionName": region, "RegionOptStatus": status}
        for region in sorted(ENABLED_BY_DEFAULT | OPT_IN_REGIONS)
        if (status := region_status(backend, region, read=False)) in wanted or not wanted
    ]
    return ActionResult({"Regions": regions})


def apply_region_opt_in(patcher: Patcher, _emulator: Emulator) -> None:
    """The three operations join moto's Account Management: routes (the stubber's and the server's are
    made from ``url_paths``) and the response's methods."""
    patcher.replace(account_urls, "url_paths", {**account_urls.url_paths, **ROUTES})
    patcher.replace(AccountResponse, "enable_region", enable_region)
    patcher.replace(AccountResponse, "get_region_opt_status", get_region_opt_status)
    patcher.replace(AccountResponse, "list_regions", list_regions)


def canary_region_opt_in() -> None:
    with stock_moto() as session:
        account = session.client("account")
        try:
            answer = account.get_region_opt_status(RegionName="af-south-1")
        except ClientError as error:
            still("Not yet implemented" in str(error), f"it answered {error.response['Error']['Code']}")
        else:
            still(False, f"it answered {answer}")


REGION_OPT_IN = declared("account-region-opt-in", apply=apply_region_opt_in, canary=canary_region_opt_in)
