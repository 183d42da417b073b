"""The embedded Account Management's Region opt-in (orgvend_local.parity.account_regions)."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend_local.parity.account_regions import REGION_OPT_IN
from tests.unit.test_parity_behaviour import emulator, patched

__all__ = ["emulator", "patched"]  # the fixtures, shared

MEMBER = "210987654321"


def test_an_opt_in_region_is_disabled_then_enabling_then_enabled(patched: Any) -> None:
    with patched(REGION_OPT_IN.name) as session:
        account = session.client("account")

        def status(region: str, account_id: str = MEMBER) -> str:
            return str(
                account.get_region_opt_status(AccountId=account_id, RegionName=region)["RegionOptStatus"]
            )

        assert status("af-south-1") == "DISABLED"
        assert status("us-east-1") == "ENABLED_BY_DEFAULT"
        account.enable_region(AccountId=MEMBER, RegionName="af-south-1")
        account.enable_region(AccountId=MEMBER, RegionName="af-south-1")  # again: nothing more
        assert status("af-south-1") == "ENABLING"
        assert status("af-south-1") == "ENABLED"
        assert status("af-south-1", "123456789012") == "DISABLED"  # per account
        listed = account.list_regions(AccountId=MEMBER, RegionOptStatusContains=["ENABLED"])["Regions"]
        assert listed == [{"RegionName": "af-south-1", "RegionOptStatus": "ENABLED"}]


def test_an_unknown_or_default_region_is_refused(patched: Any) -> None:
    with patched(REGION_OPT_IN.name) as session:
        account = session.client("account")
        for region in ("xx-nowhere-1", "us-east-1"):
            with pytest.raises(ClientError) as raised:
                account.enable_region(AccountId=MEMBER, RegionName=region)
            assert raised.value.response["Error"]["Code"] == "ValidationException"
