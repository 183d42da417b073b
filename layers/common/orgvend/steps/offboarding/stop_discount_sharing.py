"""StopDiscountSharing: before an account leaves, it stops sharing the organization's RI / Savings Plans discounts.

The same Billing calls as onboarding's SetBillingPreferences for a ``direct``
account (``turn_off_discount_sharing``): the preference is set for every
account being detached, whatever its billing mode, and read back.
"""

from typing import TYPE_CHECKING

from orgvend.billing import turn_off_discount_sharing
from orgvend.models import BillingSetup, Model, Offboarding

if TYPE_CHECKING:
    from mypy_boto3_billing import BillingClient


class StopDiscountSharingInput(Model):
    offboarding: Offboarding


def stop_discount_sharing(step_input: StopDiscountSharingInput, billing: "BillingClient") -> BillingSetup:
    return turn_off_discount_sharing(billing, step_input.offboarding.account_id)
