"""SetBillingPreferences: a ``direct`` account (the client pays AWS itself) gets no shared discounts.

For ``consolidated`` (the default) nothing is called. For ``direct`` the
management account turns reserved-instance and Savings Plans sharing off for
the account (Billing ``UpdateBillingPreferences``, feature ``RI_SHARING``, the
account ID as the preference key), then reads it back with
``GetBillingPreferences``: the step succeeds only when the account's sharing is
``DISABLED``. Setting a value that is already set changes nothing, so a retry
or a redrive is harmless.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from orgvend.billing import turn_off_discount_sharing
from orgvend.models import BillingSetup, Model, Onboarding

if TYPE_CHECKING:
    from mypy_boto3_billing import BillingClient


class SetBillingPreferencesInput(Model):
    onboarding: Onboarding
    account_id: str


def set_billing_preferences(
    step_input: SetBillingPreferencesInput, billing_client: Callable[[], "BillingClient"]
) -> BillingSetup:
    """``billing_client`` is called only for ``direct``: a callable returning the Billing client."""
    onboarding, account_id = step_input.onboarding, step_input.account_id
    if onboarding.billing != "direct":
        return BillingSetup(mode=onboarding.billing)
    return turn_off_discount_sharing(billing_client(), account_id)
