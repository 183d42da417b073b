"""Reserved-instance and Savings Plans discount sharing of one account (Billing ``RI_SHARING``), from the
management account: what a ``direct`` onboarding (SetBillingPreferences) and a detach (StopDiscountSharing)
both turn off, and read back."""

from typing import TYPE_CHECKING, Final, Literal

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import BillingPreferencesFailed
from orgvend.models import BillingSetup
from orgvend.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_billing import BillingClient
    from mypy_boto3_billing.type_defs import GetBillingPreferencesRequestTypeDef

FEATURE: Final = "RI_SHARING"
DISABLED: Final = "DISABLED"


def ri_sharing_of(billing: "BillingClient", account_id: str) -> Literal["ENABLED", "DISABLED"] | None:
    """The account's RI_SHARING value as Billing reports it (None when it reports none)."""
    kwargs: GetBillingPreferencesRequestTypeDef = {
        "features": [FEATURE],
        "filters": [{"name": "PREFERENCE_KEY", "value": [account_id]}],
    }
    while True:
        page = billing.get_billing_preferences(**kwargs)
        for preference in page.get("billingPreferences", []):
            if preference.get("feature") == FEATURE and account_id in (
                preference.get("key"),
                preference.get("accountId"),
            ):
                return preference["value"]
        if not page.get("nextToken"):
            return None
        kwargs["nextToken"] = page["nextToken"]


def turn_off_discount_sharing(billing: "BillingClient", account_id: str) -> BillingSetup:
    """RI / Savings Plans sharing off for the account, read back; ``changed`` when it was on.

    ``mode`` of the result is ``direct``: the account no longer shares the organization's discounts.
    """
    try:
        before = ri_sharing_of(billing, account_id)
        if before != DISABLED:
            billing.update_billing_preferences(
                feature=FEATURE, billingPreferencesPerKey=[{"key": account_id, "value": DISABLED}]
            )
        after = ri_sharing_of(billing, account_id)
    except ClientError as error:
        if error_code(error) in (
            "ThrottlingException",
            "InternalServerException",
            "ServiceUnavailableException",
        ):
            raise  # a crash of the step: the workflow retries it
        raise BillingPreferencesFailed(f"billing preferences of {account_id}: {error}") from None
    if after != DISABLED:
        raise BillingPreferencesFailed(
            f"RI / Savings Plans sharing of {account_id} is {after or 'not reported'} after turning it off"
        )
    logger.info("Discount sharing off", extra={"accountId": account_id, "changed": before != DISABLED})
    return BillingSetup(mode="direct", ri_sharing=DISABLED, changed=before != DISABLED)
