"""One canary per parity patch: stock moto still behaves the way the patch replaces.

When a moto upgrade makes one of these fail, the message names the patch that can be dropped.
And each canary is real: with its patch applied (moto then behaving like AWS) it reports so.
"""

import dataclasses

import pytest

from orgvend_local.parity import PATCHES, Patch, PatchNoLongerNeeded, applied, applied_names
from orgvend_local.parity.patch import MotoNowLikeAws

from .parity_support import StandaloneEmulator


@pytest.mark.parametrize("patch", PATCHES, ids=lambda patch: patch.name)
def test_stock_moto_still_needs_the_patch(patch: Patch) -> None:
    assert not applied_names(), (
        "canaries probe stock moto: run them where the embedded AWS has not patched it"
    )
    try:
        patch.run_canary()
    except PatchNoLongerNeeded as finding:
        pytest.fail(str(finding), pytrace=False)


PATCHES_OF_MOTO = [patch for patch in PATCHES if patch.apply is not None]


@pytest.mark.parametrize("patch", PATCHES_OF_MOTO, ids=lambda patch: patch.name)
def test_the_canary_sees_moto_behave_like_aws_once_patched(patch: Patch) -> None:
    with applied(StandaloneEmulator(), patch.name), pytest.raises(MotoNowLikeAws):
        patch.canary()


def test_a_finding_names_the_patch_to_drop() -> None:
    def moto_now_like_aws() -> None:
        raise MotoNowLikeAws("CreateAccount answered IN_PROGRESS")

    patch = PATCHES[0]
    probe = dataclasses.replace(patch, canary=moto_now_like_aws)
    with pytest.raises(PatchNoLongerNeeded, match=rf"the patch {patch.name} \(.+\) can be dropped"):
        probe.run_canary()
