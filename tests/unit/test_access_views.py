"""People's access where people read it: the account's API answer, the CLI's account view, the SSO export's
refusal without Identity Center, and the API's reading of the stack's Identity Center settings."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from orgvend import rules
from orgvend.api.dependencies import ApiDependencies
from orgvend.exports import ExportFormat, ExportOptions
from orgvend.models import AccessAssignment, AccountAccess, AccountRecord, AccountStatus
from orgvend.refusals import Conflict
from orgvend.settings import Settings
from orgvend.workflows.accounts import Accounts, account_view
from orgvend_cli import render

ADMIN, READ_ONLY = rules.KEPT_PERMISSION_SETS
PORTAL = "https://d-1234567890.awsapps.com/start"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def record(access: AccountAccess | None = None) -> AccountRecord:
    return AccountRecord(
        account_id="000000000101",
        account_name="Acme Web",
        email="acme-web@example.com",
        client="acme",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=AccountStatus.ACTIVE,
        access=access,
        created_at=NOW,
        updated_at=NOW,
    )


def assignment(group: str, permission_set: str) -> AccessAssignment:
    return AccessAssignment(
        group=group,
        group_id=f"id-{group}",
        permission_set=permission_set,
        permission_set_arn=f"arn:aws:sso:::permissionSet/ssoins-1/{permission_set}",
        rule="rule",
    )


GRANTED = AccountAccess(
    configured=True,
    portal_url=PORTAL,
    sso_region="eu-central-1",
    # Stored in another order than orgvend keeps the permission sets; one set for two groups.
    assignments=[assignment("acme-ops", READ_ONLY), assignment("admins", ADMIN), assignment("acme", ADMIN)],
)


class OneAccountRegistry:
    """What Accounts reads of the registry, for one account."""

    def __init__(self, account: AccountRecord) -> None:
        self.account = account

    def get_account(self, account_id: str) -> AccountRecord | None:
        return self.account if account_id == self.account.account_id else None

    def all_accounts(self) -> list[AccountRecord]:
        return [self.account]


def accounts_of(account: AccountRecord) -> Accounts:
    return Accounts(OneAccountRegistry(account), organizations=None)  # type: ignore[arg-type]


def test_an_accounts_answer_offers_its_permission_sets_in_the_order_orgvend_keeps_them() -> None:
    answer = accounts_of(record(GRANTED)).get("000000000101").to_json()
    assert answer["permissionSets"] == [ADMIN, READ_ONLY]
    assert answer["access"]["portalUrl"] == PORTAL


@pytest.mark.parametrize("access", [None, AccountAccess(configured=False)])
def test_an_account_without_access_offers_no_permission_set(access: AccountAccess | None) -> None:
    assert account_view(record(access)).to_json()["permissionSets"] == []


def test_the_cli_shows_the_portal_and_the_permission_sets() -> None:
    shown = render.account_detail(account_view(record(GRANTED)).to_json())
    assert f"Access portal    {PORTAL}" in shown.splitlines()
    assert f"Permission sets  {ADMIN}, {READ_ONLY}" in shown.splitlines()


@pytest.mark.parametrize("access", [None, AccountAccess(configured=False)])
def test_the_cli_shows_no_portal_for_an_account_without_access(access: AccountAccess | None) -> None:
    shown = render.account_detail(account_view(record(access)).to_json())
    assert "Access portal" not in shown and "Permission sets" not in shown


def test_an_older_api_answer_without_permission_sets_is_shown_without_them() -> None:
    answer: dict[str, Any] = account_view(record(GRANTED)).to_json()
    del answer["permissionSets"]
    assert "Permission sets" not in render.account_detail(answer)


def test_sso_profiles_from_a_stack_without_identity_center_are_a_conflict_naming_the_format() -> None:
    with pytest.raises(Conflict) as refused:
        accounts_of(record(GRANTED)).export(ExportFormat.AWS_CONFIG_SSO, None, None, ExportOptions())
    assert (refused.value.status, refused.value.code, refused.value.field) == (
        409,
        "NoIdentityCenter",
        "format",
    )
    assert "aws-config-sso" in str(refused.value) and "Identity Center" in str(refused.value)


@pytest.fixture
def api_settings(settings_for: Callable[[str], Settings]) -> Settings:
    """The API function's settings as the template's defaults give them: no Identity Center instance."""
    return settings_for("ApiFunction")


def test_the_api_reads_the_portal_and_region_of_the_stacks_identity_center(api_settings: Settings) -> None:
    identity_center = {
        "identity_center_instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "identity_store_id": "d-1234567890",
        "identity_center_region": "eu-central-1",
    }
    given = ApiDependencies(api_settings.model_copy(update=identity_center))
    assert (given.access_portal_url(), given.identity_center_region()) == (PORTAL, "eu-central-1")
    custom = ApiDependencies(
        api_settings.model_copy(
            update={**identity_center, "access_portal_url": "https://acme.awsapps.com/start"}
        )
    )
    assert custom.access_portal_url() == "https://acme.awsapps.com/start"


def test_a_stack_without_identity_center_gives_the_api_no_portal(api_settings: Settings) -> None:
    given = ApiDependencies(api_settings)
    assert given.access_portal_url() is None
    store_only = ApiDependencies(api_settings.model_copy(update={"identity_store_id": "d-1234567890"}))
    assert store_only.access_portal_url() is None
    # The template gives IDENTITY_CENTER_REGION the stack's Region even without an instance; it is
    # the SSO export's refusal, not a region, that tells such a stack.
    given = ApiDependencies(api_settings.model_copy(update={"identity_center_region": ""}))
    assert given.identity_center_region() is None
