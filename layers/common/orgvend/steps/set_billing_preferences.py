"""SetBillingPreferences: a ``direct`` account (the client pays AWS itself) gets no shared discounts.

For ``consolidated`` (the default) nothing is called. For ``direct`` the
management account turns reserved-instance and Savings Plans sharing off for
the account (Billing ``UpdateBillingPreferences``, feature ``RI_SHARING``, the
account ID as the preference key), then reads it back with
``GetBillingPreferences``: the step succeeds only when the account's sharing is
``DISABLED``. Setting a value that is already set changes nothing, so a retry
or a redrive is harmless.
"""

from typing import Any

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import BillingPreferencesFailed
from orgvend.models import BillingSetup, Model, Onboarding
from orgvend.observability import logger

FEATURE = "RI_SHARING"
DISABLED = "DISABLED"


class SetBillingPreferencesInput(Model):
    onboarding: Onboarding
    account_id: str


def ri_sharing_of(billing: Any, account_id: str) -> str | None:
    """The account's RI_SHARING value as Billing reports it (None when it reports none)."""
    kwargs: dict[str, Any] = {
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
                return str(preference["value"])
        if not page.get("nextToken"):
            return None
        kwargs["nextToken"] = page["nextToken"]


def turn_off_discount_sharing(billing: Any, account_id: str) -> BillingSetup:
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


def set_billing_preferences(step_input: SetBillingPreferencesInput, billing_client: Any) -> BillingSetup:
    """``billing_client`` is called only for ``direct``: a callable returning the Billing client."""
    onboarding, account_id = step_input.onboarding, step_input.account_id
    if onboarding.billing != "direct":
        return BillingSetup(mode=onboarding.billing)
    return turn_off_discount_sharing(billing_client(), account_id)
