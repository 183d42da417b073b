"""What every door checks before it starts a workflow: the API, the event door, and the workflows' own
first steps (RecordRequest, BeginOffboarding), so that all of them refuse the same requests the same way."""

from orgvend import rules
from orgvend.account_settings.models import SettingsProfile
from orgvend.errors import (
    InvalidOffboardingRequest,
    InvalidOnboardingRequest,
    InvalidSettingsProfile,
    OffboardingInProgress,
    OrgvendError,
)
from orgvend.models import OFFBOARDABLE_STATUSES, AccountRecord, OnboardingRequest
from orgvend.organizations import Scope
from orgvend.registry.settings_profiles import SettingsProfiles

# -- onboarding ----------------------------------------------------------------------------------


def check_role_allowed(request: OnboardingRequest, allowed_role_names: tuple[str, ...]) -> None:
    """orgvend may assume only the role names the stack allows (its IAM policy names them)."""
    if request.role_name and request.role_name not in allowed_role_names:
        raise InvalidOnboardingRequest(
            f"roleName: must be one of {', '.join(allowed_role_names)} (the stack's AccessRoleNames parameter)"
        )


def check_email_domain(request: OnboardingRequest, allowed_domains: tuple[str, ...]) -> None:
    problem = rules.email_domain_problem(request.email, allowed_domains)
    if problem:
        raise InvalidOnboardingRequest(f"email: {problem}")


def check_scope(request: OnboardingRequest, scope: Scope) -> None:
    """An account to adopt and an OU to place into must lie in orgvend's scope (raises OutOfScope)."""
    if request.account_id:
        scope.require_account(request.account_id)
    if request.ou:
        scope.require_ou(request.ou)


def check_settings(request: OnboardingRequest, profiles: SettingsProfiles) -> SettingsProfile:
    """The request's settings profile resolved (the stack's default, the named one, the overrides) and its
    account alias made for the client and project; ``InvalidSettingsProfile`` names the field otherwise."""
    profile = profiles.resolve_settings_profile(request.settings_profile, request.settings)
    try:
        profile.alias_for(request.client, request.project)
    except ValueError as error:
        raise InvalidSettingsProfile({"settings.alias": str(error)}) from None
    return profile


def check_settings_requested(request: OnboardingRequest, profiles: SettingsProfiles) -> None:
    """``check_settings`` as the workflow's first step refuses: an ``InvalidOnboardingRequest``."""
    try:
        check_settings(request, profiles)
    except InvalidSettingsProfile as error:
        raise InvalidOnboardingRequest(str(error)) from None


# -- offboarding ---------------------------------------------------------------------------------


def not_in_registry(account_id: str) -> InvalidOffboardingRequest:
    return InvalidOffboardingRequest(
        f"accountId: account {account_id} is not in the registry; orgvend offboards only accounts it "
        f"manages (adopt it first: POST /accounts/adopt)"
    )


def offboarding_refusal(account_id: str, record: AccountRecord, offboarding_id: str) -> OrgvendError | None:
    """Why this offboarding may not take the registered account (None when it may)."""
    if record.offboarding_id == offboarding_id:
        return None  # this offboarding already holds it (a retried step)
    if record.offboarding_id:
        return OffboardingInProgress(
            f"account {account_id} is being offboarded by {record.offboarding_id}; "
            f"one offboarding at a time per account"
        )
    if record.status not in OFFBOARDABLE_STATUSES:
        allowed = ", ".join(sorted(status.value for status in OFFBOARDABLE_STATUSES))
        return InvalidOffboardingRequest(
            f"account {account_id} is {record.status.value}; only {allowed} accounts can be offboarded"
        )
    return None


def confirmation_refusal(
    record: AccountRecord, confirm_account_name: str
) -> InvalidOffboardingRequest | None:
    """Why the confirmation does not name the account (None when it does)."""
    if confirm_account_name == record.account_name:
        return None
    return InvalidOffboardingRequest(
        f"confirmAccountName: must be the account's name as orgvend registered it ({record.account_name!r}); "
        "detaching or closing an account cannot be undone"
    )
