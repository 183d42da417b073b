"""Data access for the registry table (single-table design).

Items, all in one table:

========================  =============  ======================================
pk                        sk             what
========================  =============  ======================================
``ACCOUNT#<accountId>``   ``ACCOUNT``    an account (``AccountRecord``), in three
                                         GSIs: ``ByClient`` (gsi1pk ``CLIENT#<client>``,
                                         gsi1sk ``<project>#<accountId>``),
                                         ``ByStatus`` (gsi2pk ``STATUS#<status>``,
                                         gsi2sk ``<client>#<project>#<accountId>``),
                                         ``Accounts`` (gsi3pk ``ACCOUNT``, gsi3sk as gsi2sk)
``ONBOARDING#<id>``       ``ONBOARDING`` one onboarding (execution) and its outcome
``EMAIL#<email>``         ``EMAIL``      uniqueness guard: which onboarding owns
                                         an email address
``CREATEREQUEST#<id>``    ``CREATEREQUEST`` which onboarding made a CreateAccount request
``OFFBOARDING#<id>``      ``OFFBOARDING`` one offboarding (execution): account, mode, outcome
``SEMAPHORE#<name>``      ``SEMAPHORE``  the creation slots (orgvend.semaphore)
``SETTINGSPROFILE#<name>`` ``PROFILE``  a settings profile and its version
                                         (orgvend.registry.settings_profiles), in
                                         ``Accounts`` under gsi3pk ``SETTINGSPROFILE``
``SETTINGSRUN#<runId>``   ``RUN``        a settings run and each account's outcome
                                         (orgvend.registry.settings_runs); TTL ``expiresAt``
``COSTS#<month>``         ``ANSWER``     a month's Cost Explorer answer, kept for the costs
                                         report (orgvend.registry.costs; ``PART#…`` items
                                         beside it for a large one, a ``QUERY`` lease); TTL
                                         ``expiresAt`` until the month is final
``CLIENT#<client>``       ``BUDGET``     the client's default monthly budget
                                         (orgvend.registry.budgets)
========================  =============  ======================================

"All accounts of client X" is a Query on ``ByClient`` with gsi1pk only, "of
client X, project Y" adds ``begins_with(gsi1sk, "Y#")``; a status (optionally
with client and project) queries ``ByStatus``; no filter queries ``Accounts``.
Every listing is a Query that reads only the items it returns. A second registration
of an email fails atomically on the guard item's condition inside the same
transaction that writes the onboarding. An account being offboarded carries
``offboardingId``: the lock that keeps a second offboarding of it from starting.
"""

from orgvend import aws
from orgvend.clock import now
from orgvend.models import AccountStatus
from orgvend.registry.budgets import ClientBudgets
from orgvend.registry.costs import CostAnswers
from orgvend.registry.items import (
    ACCOUNTS_INDEX,
    BY_CLIENT_INDEX,
    BY_STATUS_INDEX,
    MAX_WRITE_ATTEMPTS,
    VERSION,
    account_key,
    cancelled_on,
    email_key,
    lost_on_condition,
    offboarding_key,
    onboarding_key,
)
from orgvend.registry.offboardings import Offboardings
from orgvend.registry.onboardings import Onboardings
from orgvend.registry.settings_profiles import SettingsProfiles
from orgvend.registry.settings_runs import SettingsRuns
from orgvend.settings import Settings


class Registry(Offboardings, Onboardings, SettingsProfiles, SettingsRuns, CostAnswers, ClientBudgets):
    """The registry table: accounts, onboardings, offboardings, email guards, settings profiles,
    settings runs, the costs report's answers and the clients' default budgets, one facade."""


def default_registry(settings: Settings) -> Registry:
    """The function's registry table, through the process's DynamoDB client."""
    return Registry(aws.client("dynamodb"), settings.registry_table_name)


__all__ = [
    "ACCOUNTS_INDEX",
    "BY_CLIENT_INDEX",
    "BY_STATUS_INDEX",
    "MAX_WRITE_ATTEMPTS",
    "VERSION",
    "AccountStatus",
    "Registry",
    "account_key",
    "cancelled_on",
    "default_registry",
    "email_key",
    "lost_on_condition",
    "now",
    "offboarding_key",
    "onboarding_key",
]
