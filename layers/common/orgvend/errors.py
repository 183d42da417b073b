"""Errors the workflow's Retry and Catch clauses match by name.

Step Functions sees a Lambda error by the exception's class name (``errorType``),
so these names are part of the contract with ``statemachines/*.asl.json``: the ASL
retries and catches our names, never SDK error spellings (which differ between
AWS and the embedded runtime).
"""


class OrgvendError(Exception):
    """Base class: every error the workflow may see by name."""


# Retryable: the ASL retries these with backoff and jitter.
class OrganizationsBusy(OrgvendError):
    """Organizations throttled us or has too many operations in progress; try again later."""


class AccountNotReady(OrgvendError):
    """A fresh account is not usable yet (assume-role denied, not yet subscribed)."""


# Terminal: the ASL sends these to the failure path.
class InvalidOnboardingRequest(OrgvendError):
    """The request breaks a rule Organizations or orgvend enforces; names the field."""


class EmailAlreadyRegistered(OrgvendError):
    """Another onboarding already owns this email address."""


class OrganizationsRejected(OrgvendError):
    """Organizations refused a request for a reason that retrying cannot fix."""


class AccountCreationFailed(OrgvendError):
    """CreateAccount finished with state FAILED; the message spells out FailureReason."""


class AccountCreationTimedOut(OrgvendError):
    """CreateAccount stayed IN_PROGRESS for longer than the configured timeout."""


class AccountNotAdoptable(OrgvendError):
    """The account to adopt is not an active member, or it is the management account."""


class OutOfScope(OrgvendError):
    """An account or OU outside orgvend's managed scope (orgvend.scope): orgvend does nothing to it.

    ``what`` names the account or OU, ``why`` says where it is, ``field`` is the request's field.
    """

    def __init__(self, what: str, why: str, field: str | None = None) -> None:
        super().__init__(f"{what} is outside orgvend's managed scope: {why}")
        self.what = what
        self.why = why
        self.field = field


class UnsafeAccessRoleTrust(OrgvendError):
    """The access role trusts principals outside the organization and its trust cannot be replaced."""


class BaselineFailed(OrgvendError):
    """The baseline could not be applied for a reason other than eventual consistency."""


class BillingPreferencesFailed(OrgvendError):
    """Billing refused to turn off discount sharing, or the account's sharing is still on afterwards."""


# Offboarding (statemachines/offboard_account.asl.json): all terminal.
class InvalidOffboardingRequest(OrgvendError):
    """The account is not registered, or its registry status does not allow offboarding."""


class OffboardingInProgress(OrgvendError):
    """Another offboarding of the same account is running: one at a time per account."""


class DetachPreconditionsUnmet(OrgvendError):
    """A precondition AWS enforces for RemoveAccountFromOrganization is unmet; the message lists each."""


class AccountRemovalRefused(OrgvendError):
    """Organizations refused to remove the account (payment method, phone, support plan, ...)."""


class AccountClosureRefused(OrgvendError):
    """Organizations refused to close the account (closure quota, management account, ...)."""


class AccountClosureTimedOut(OrgvendError):
    """The account stayed PENDING_CLOSURE longer than the configured timeout."""
