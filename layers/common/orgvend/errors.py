"""Errors the workflow's Retry and Catch clauses match by name.

Step Functions sees a Lambda error by the exception's class name (``errorType``),
so these names are part of the contract with ``statemachines/*.asl.json``: the ASL
retries and catches our names, never SDK error spellings (which differ between
AWS and the embedded runtime).
"""


class OrgvendError(Exception):
    """Base class: every error the workflow may see by name."""


class Retryable(OrgvendError):
    """Not now: the ASL retries these with backoff and jitter (by name, or as States.TaskFailed)."""


class Terminal(OrgvendError):
    """Retrying cannot fix these: every Task state stops them (MaxAttempts 0), so the run fails there."""


class OrganizationsBusy(Retryable):
    """Organizations throttled us or has too many operations in progress; try again later."""


class AccountNotReady(Retryable):
    """A fresh account is not usable yet (assume-role denied, not yet subscribed)."""


class IdentityCenterBusy(Retryable):
    """IAM Identity Center throttled us, or another change to the same assignment is in progress."""


class AccessNotReady(Retryable):
    """An account assignment is still IN_PROGRESS after the step's bounded wait: the step's retry looks again."""


class WriteContention(Retryable):
    """A registry entry changed under every attempt to write it: the step's retry reads it again."""


class InvalidOnboardingRequest(Terminal):
    """The request breaks a rule Organizations or orgvend enforces; names the field."""


class EmailAlreadyRegistered(Terminal):
    """Another onboarding already owns this email address."""


class OrganizationsRejected(Terminal):
    """Organizations refused a request for a reason that retrying cannot fix."""


class AccountCreationFailed(Terminal):
    """CreateAccount finished with state FAILED; the message spells out FailureReason."""


class AccountCreationTimedOut(Terminal):
    """CreateAccount stayed IN_PROGRESS for longer than the configured timeout."""


class AccountNotAdoptable(Terminal):
    """The account to adopt is not an active member, or it is the management account."""


class OutOfScope(Terminal):
    """An account or OU outside orgvend's managed scope (orgvend.organizations): orgvend does nothing to it.

    ``what`` names the account or OU, ``why`` says where it is, ``field`` is the request's field.
    """

    def __init__(self, what: str, why: str, field: str | None = None) -> None:
        super().__init__(f"{what} is outside orgvend's managed scope: {why}")
        self.what = what
        self.why = why
        self.field = field


class UnsafeAccessRoleTrust(Terminal):
    """The access role trusts principals outside the organization and its trust cannot be replaced."""


class BaselineFailed(Terminal):
    """The baseline could not be applied for a reason other than eventual consistency."""


class BillingPreferencesFailed(Terminal):
    """Billing refused to turn off discount sharing, or the account's sharing is still on afterwards."""


class BudgetFailed(Terminal):
    """Budgets refused to create, change or delete the account's budget (access denied, a quota, a bad
    parameter): retrying cannot fix it; the message names the budget and Budgets' answer."""


class BudgetsBusy(Retryable):
    """Budgets throttled us (or failed inside) past botocore's own retries: the step's retry looks again,
    where what exists already is kept."""


class AccessAssignmentFailed(Terminal):
    """IAM Identity Center refused or failed an account assignment; the message names the group and permission set."""


# Offboarding (statemachines/offboard_account.asl.json): all terminal.
class InvalidOffboardingRequest(Terminal):
    """The account is not registered, its registry status does not allow offboarding, or the request does
    not name it (confirmAccountName)."""


class OffboardingInProgress(Terminal):
    """Another offboarding of the same account is running: one at a time per account."""


class DetachPreconditionsUnmet(Terminal):
    """A precondition AWS enforces for RemoveAccountFromOrganization is unmet; the message lists each."""


class AccountRemovalRefused(Terminal):
    """Organizations refused to remove the account (payment method, phone, support plan, ...)."""


class AccountClosureRefused(Terminal):
    """Organizations refused to close the account (closure quota, management account, ...)."""


class AccountClosureTimedOut(Terminal):
    """The account stayed PENDING_CLOSURE longer than the configured timeout."""


# Account settings (orgvend.account_settings).
class InvalidSettingsProfile(Terminal):
    """A settings profile (or an override of one) breaks a rule; ``problems`` maps each field's path
    (``settings.passwordPolicy.minimumPasswordLength``) to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {problem}" for path, problem in problems.items()))
        self.problems = problems


class SettingFailed(Terminal):
    """A setting of the profile failed; ``setting`` names it (a redrive resumes at the step). Not raised
    itself: the workflow sees its subclasses by name."""

    def __init__(self, setting: str, why: str) -> None:
        super().__init__(f"{setting}: {why}")
        self.setting = setting


class SettingsNotApplied(SettingFailed):
    """A setting could not be applied to the account (AWS refused it, or it did not read back)."""


class AccountAliasTaken(SettingFailed):
    """The account alias is another AWS account's already: aliases are unique across all of AWS."""

    def __init__(self, alias: str) -> None:
        super().__init__(
            "alias", f"the account alias {alias!r} is taken by another AWS account (aliases are global)"
        )
        self.alias = alias


class InvalidSettingsRun(Terminal):
    """A settings run names an account, client or profile that cannot be run, or its registry item is gone."""


class SettingsThrottled(Retryable):
    """AWS throttled (or briefly failed) a setting's call past botocore's own retries: the step's retry
    applies the profile again, where what is done already changes nothing."""


class RegionNotReady(Retryable):
    """An opt-in Region is still being enabled (or disabled) after the step's bounded wait: the step's
    retry looks again."""
