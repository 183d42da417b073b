"""Steps RegisterAccount and NotifyOnboarded: the account becomes ACTIVE, and people and machines hear of it."""

from urllib.parse import parse_qs, urlparse

import pytest
from botocore.awsrequest import AWSResponse

from orgvend import aws
from orgvend.models import AccessAssignment, AccountAccess, AccountStatus, Baseline, Placement
from orgvend.notifications import ONBOARDED_DETAIL_TYPE, Announcer
from orgvend.steps.onboarding.check_account_creation import pending_record
from orgvend.steps.onboarding.notify_onboarded import NotifyOnboardedInput, notify_onboarded
from orgvend.steps.onboarding.register_account import RegisterAccountInput, register_account

ACCOUNT_ID = "210987654321"
OU_ID = "ou-ab12-cdefgh34"


@pytest.fixture
def onboarding(opened_onboarding):
    return opened_onboarding(
        client="acme", project="web", email="acme-web@example.com", account_name="Acme Web"
    )


def register(registry, onboarding):
    policy_arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/OrgvendAdministratorMinusBilling"
    return register_account(
        RegisterAccountInput(
            onboarding=onboarding,
            account_id=ACCOUNT_ID,
            placement=Placement(ou_id=OU_ID, ou_name="acme", moved=True),
            baseline=Baseline(
                role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{onboarding.role_name}",
                policy_arn=policy_arn,
                changed=True,
            ),
        ),
        registry,
    )


def test_register_account_makes_the_entry_active_with_everything_an_operator_needs(registry, onboarding):
    registry.save_account(pending_record(onboarding, ACCOUNT_ID, AccountStatus.CREATING))
    created_at = registry.get_account(ACCOUNT_ID).created_at

    record = register(registry, onboarding)

    stored = registry.get_account(ACCOUNT_ID)
    assert stored == record
    assert stored.status is AccountStatus.ACTIVE
    assert stored.ou_id == OU_ID
    assert stored.baseline_policy_arn == f"arn:aws:iam::{ACCOUNT_ID}:policy/OrgvendAdministratorMinusBilling"
    assert stored.created_at == created_at  # kept from the CREATING entry
    assert stored.updated_at >= created_at
    assert (stored.account_name, stored.email, stored.role_name) == (
        "Acme Web",
        "acme-web@example.com",
        onboarding.role_name,
    )
    onboarding_item = registry.get_onboarding(onboarding.onboarding_id)
    assert onboarding_item["status"] == "SUCCEEDED"
    assert onboarding_item["accountId"] == ACCOUNT_ID
    records, _ = registry.list_accounts(client="acme", project="web")
    assert [r.account_id for r in records] == [ACCOUNT_ID]


def test_register_account_is_idempotent(registry, onboarding):
    first = register(registry, onboarding)
    again = register(registry, onboarding)
    assert again.created_at == first.created_at
    assert registry.get_account(ACCOUNT_ID).status is AccountStatus.ACTIVE


# --------------------------------------------------------------------------- NotifyOnboarded


@pytest.fixture
def account(registry, onboarding):
    return register(registry, onboarding)


@pytest.fixture
def settings(settings_for):
    return settings_for("NotifyOnboardedFunction")


def test_operators_get_the_account_details_and_the_root_user_checklist(
    account, settings, operator_inbox, event_inbox, moto_aws
):
    notification = notify_onboarded(
        NotifyOnboardedInput(account=account), Announcer(aws.client("sns"), aws.client("events"), settings)
    )

    (message,) = operator_inbox.receive()
    assert message["MessageId"] == notification.message_id
    assert message["TopicArn"] == settings.operator_topic_arn
    assert message["MessageAttributes"]["kind"]["Value"] == "onboarded"
    assert message["Subject"] == f"orgvend: account Acme Web ({ACCOUNT_ID}) is ready"
    assert len(message["Subject"]) <= 100
    body = message["Message"]
    assert f"Account ID:   {ACCOUNT_ID}" in body
    assert "Account name: Acme Web" in body
    assert f"Access role:  {account.role_name}" in body
    assert account.switch_role_url in body
    assert "Forgot password?" in body
    assert "Enable MFA on the root user" in body
    assert "acme-web@example.com" in body
    assert OU_ID in body

    url = urlparse(account.switch_role_url)
    assert (url.scheme, url.netloc, url.path) == ("https", "signin.aws.amazon.com", "/switchrole")
    query = parse_qs(url.query)
    assert query == {"account": [ACCOUNT_ID], "roleName": [account.role_name], "displayName": ["acme/web"]}


def test_operators_learn_where_people_sign_in_with_which_permission_sets_and_the_missing_groups(
    account, settings, operator_inbox, event_inbox, moto_aws
):
    def assignment(group, permission_set):
        arn = f"arn:aws:sso:::permissionSet/ssoins-1/{permission_set}"
        return AccessAssignment(
            group=group,
            group_id=f"id-{group}",
            permission_set=permission_set,
            permission_set_arn=arn,
            rule="r",
        )

    access = AccountAccess(
        configured=True,
        portal_url="https://d-1234567890.awsapps.com/start",
        sso_region="eu-central-1",
        assignments=[
            assignment("acme-readers", "ReadOnlyAccess"),
            assignment("platform", "AdministratorMinusBilling"),
            assignment("acme-admins", "AdministratorMinusBilling"),
        ],
        missing_groups=["acme-web-auditors"],
    )
    # As the state machine passes it: the registered account (with its access) in the step's JSON input.
    step_input = NotifyOnboardedInput.model_validate(
        {"account": account.model_copy(update={"access": access}).to_json(), "trustFindings": []}
    )
    notify_onboarded(step_input, Announcer(aws.client("sns"), aws.client("events"), settings))

    (message,) = operator_inbox.receive()
    lines = message["Message"].splitlines()
    at = lines.index("People sign in through the AWS access portal (IAM Identity Center):")
    assert lines[at + 1 : at + 4] == [
        "  https://d-1234567890.awsapps.com/start",
        "  AdministratorMinusBilling: acme-admins, platform",
        "  ReadOnlyAccess: acme-readers",
    ]
    assert lines[at + 4].endswith("(reported, not created):")
    assert lines[at + 5] == "  - acme-web-auditors"


def test_operators_hear_of_no_portal_when_the_stack_has_no_identity_center(
    account, settings, operator_inbox, event_inbox, moto_aws
):
    without = account.model_copy(update={"access": AccountAccess(configured=False)})
    notify_onboarded(
        NotifyOnboardedInput(account=without), Announcer(aws.client("sns"), aws.client("events"), settings)
    )
    (message,) = operator_inbox.receive()
    assert "access portal" not in message["Message"]


def test_downstream_automation_gets_an_account_onboarded_event(
    account, settings, operator_inbox, event_inbox, moto_aws
):
    notification = notify_onboarded(
        NotifyOnboardedInput(account=account), Announcer(aws.client("sns"), aws.client("events"), settings)
    )

    assert notification.event_detail_type == ONBOARDED_DETAIL_TYPE == "Account Onboarded"
    (event,) = event_inbox.receive()
    assert event["source"] == settings.event_source
    assert event["detail-type"] == "Account Onboarded"
    assert event["detail"] == account.to_json()
    assert event["detail"]["accountId"] == ACCOUNT_ID
    assert event["detail"]["status"] == "ACTIVE"


def test_a_refused_event_fails_the_step(account, settings, operator_inbox, moto_aws):
    events = aws.client("events")

    def refuse(**_):
        return AWSResponse("https://events.invalid/", 200, {}, None), {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    events.meta.events.register("before-call.eventbridge.PutEvents", refuse)
    with pytest.raises(RuntimeError, match="EventBridge refused the Account Onboarded event"):
        notify_onboarded(
            NotifyOnboardedInput(account=account), Announcer(aws.client("sns"), events, settings)
        )
