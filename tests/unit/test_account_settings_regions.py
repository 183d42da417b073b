"""Opt-in Regions (orgvend.account_settings.enable_regions), from the management account.

moto has no Account Management EnableRegion or GetRegionOptStatus ("Not yet implemented"): a scripted
Region status answers both through botocore's ``before-call`` events, as AWS would, including the
minutes a Region spends ENABLING.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from orgvend import aws
from orgvend.account_settings.apply_settings import SettingsTarget, apply_settings, settings_drift
from orgvend.account_settings.enable_regions import apply_opt_in_regions, opt_in_regions_drift
from orgvend.account_settings.models import SettingsProfile
from orgvend.errors import RegionNotReady
from orgvend.models import Setting

ACCOUNT = "210987654321"


@dataclass
class ScriptedRegions:
    """Each Region's opt status; an enabled Region stays ENABLING for ``enabling_looks`` looks."""

    statuses: dict[str, str]
    enabling_looks: int = 0
    enabled: list[tuple[str, str]] = field(default_factory=list)
    looks: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def answer(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://account.invalid/", 200, {}, None), {
            **parsed,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    @staticmethod
    def asked(params: dict[str, Any]) -> dict[str, Any]:
        """The call's parameters, from the serialized request (Account Management is REST-JSON)."""
        asked: dict[str, Any] = json.loads(params["body"])
        return asked

    def get_region_opt_status(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        region = self.asked(params)["RegionName"]
        if self.statuses[region] == "ENABLING":
            self.looks[region] = self.looks.get(region, 0) + 1
            if self.looks[region] > self.enabling_looks:
                self.statuses[region] = "ENABLED"
        return self.answer({"RegionName": region, "RegionOptStatus": self.statuses[region]})

    def enable_region(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        asked = self.asked(params)
        self.enabled.append((asked["AccountId"], asked["RegionName"]))
        self.statuses[asked["RegionName"]] = "ENABLING"
        return self.answer({})


@pytest.fixture
def account(moto_aws: None) -> Any:
    return aws.client("account")


def script(account: Any, statuses: dict[str, str], enabling_looks: int = 0) -> ScriptedRegions:
    regions = ScriptedRegions(statuses, enabling_looks)
    account.meta.events.register("before-call.account.GetRegionOptStatus", regions.get_region_opt_status)
    account.meta.events.register("before-call.account.EnableRegion", regions.enable_region)
    return regions


@pytest.fixture
def sleeps() -> Iterator[list[float]]:
    slept: list[float] = []
    yield slept


def test_a_disabled_region_is_enabled_and_waited_for(account: Any, sleeps: list[float]) -> None:
    regions = script(account, {"af-south-1": "DISABLED", "us-east-1": "ENABLED_BY_DEFAULT"}, enabling_looks=2)

    result = apply_opt_in_regions(account, ACCOUNT, ["af-south-1", "us-east-1"], sleep=sleeps.append)

    assert (result.setting, result.changed, result.detail) == (
        Setting.OPT_IN_REGIONS,
        True,
        "enabled af-south-1",
    )
    assert regions.enabled == [(ACCOUNT, "af-south-1")]
    assert len(sleeps) == 2  # a look at once and one after each wait: ENABLING twice, then ENABLED
    assert opt_in_regions_drift(account, ACCOUNT, ["af-south-1", "us-east-1"]) == []


def test_enabled_regions_change_nothing(account: Any, sleeps: list[float]) -> None:
    regions = script(account, {"af-south-1": "ENABLED", "us-east-1": "ENABLED_BY_DEFAULT"})

    result = apply_opt_in_regions(account, ACCOUNT, ["af-south-1", "us-east-1"], sleep=sleeps.append)

    assert not result.changed
    assert regions.enabled == [] and sleeps == []


def test_a_region_still_enabling_after_the_bound_is_retryable(account: Any, sleeps: list[float]) -> None:
    regions = script(account, {"ap-east-1": "DISABLED"}, enabling_looks=100)

    with pytest.raises(RegionNotReady, match=r"optInRegions: ap-east-1 not enabled yet for 210987654321"):
        apply_opt_in_regions(account, ACCOUNT, ["ap-east-1"], sleep=sleeps.append, attempts=3, interval=5)

    assert sleeps == [5, 5, 5]
    # The workflow's retry finds it ENABLING, enables nothing again, and waits.
    regions.enabling_looks = 0
    assert not apply_opt_in_regions(account, ACCOUNT, ["ap-east-1"], sleep=sleeps.append).changed
    assert regions.enabled == [(ACCOUNT, "ap-east-1")]


def test_a_region_being_disabled_is_waited_for_not_enabled(account: Any, sleeps: list[float]) -> None:
    regions = script(account, {"me-south-1": "DISABLING"})

    with pytest.raises(RegionNotReady, match="me-south-1"):
        apply_opt_in_regions(account, ACCOUNT, ["me-south-1"], sleep=sleeps.append, attempts=1)

    assert regions.enabled == []


def test_a_disabled_region_is_drift(account: Any) -> None:
    script(account, {"af-south-1": "DISABLED", "eu-south-1": "ENABLED"})

    drift = opt_in_regions_drift(account, ACCOUNT, ["af-south-1", "eu-south-1"])

    assert [(item.field, item.region, item.expected, item.actual) for item in drift] == [
        ("status", "af-south-1", "ENABLED", "DISABLED")
    ]


def test_the_coordinator_enables_regions_from_the_management_account(account: Any) -> None:
    regions = script(account, {"af-south-1": "DISABLED"})
    profile = SettingsProfile(opt_in_regions=["af-south-1"])
    member: Any = object()  # no member-account setting in this profile: never asked for a client
    where = SettingsTarget(
        account_id=ACCOUNT, client="acme", project="web", member=member, management_account=account
    )

    assert [item.region for item in settings_drift(profile, where)] == ["af-south-1"]
    # The step's own wait (seconds) is not reached: the Region is ENABLED at the first look.
    result = apply_settings(profile, where)

    assert [item.setting for item in result.results] == [Setting.OPT_IN_REGIONS]
    assert regions.enabled == [(ACCOUNT, "af-south-1")]
