"""rules.py through models.OnboardingRequest: every refusal names the field that breaks a rule."""

from typing import Any

import pytest
from pydantic import ValidationError

from orgvend import rules
from orgvend.models import OnboardingRequest, describe_problems, validation_problems

VALID = {"client": "acme", "project": "web", "email": "ops+acme-web@example.com"}


def problems_of(**changes: Any) -> list[dict[str, str]]:
    request = {**VALID, **changes}
    with pytest.raises(ValidationError) as raised:
        OnboardingRequest.model_validate(request)
    return validation_problems(raised.value)


def only_problem(**changes: Any) -> dict[str, str]:
    problems = problems_of(**changes)
    assert len(problems) == 1, problems
    return problems[0]


def test_a_valid_request_keeps_its_values_and_defaults():
    request = OnboardingRequest.model_validate(
        {
            **VALID,
            "accountName": "Acme Web (prod)",
            "roleName": "OrganizationAccountAccessRole",
            "tags": {"cost-center": "42", "Kostenstelle": "Zürich Nord", "部署": "開発"},
            "accountId": "210987654321",
            "iamUserAccessToBilling": "ALLOW",
            "billing": "direct",
        }
    )
    assert request.account_name == "Acme Web (prod)"
    assert request.role_name == "OrganizationAccountAccessRole"
    assert request.tags == {"cost-center": "42", "Kostenstelle": "Zürich Nord", "部署": "開発"}
    assert request.account_id == "210987654321"
    assert request.iam_user_access_to_billing == "ALLOW"


def test_a_minimal_request_gets_safe_defaults():
    request = OnboardingRequest.model_validate(VALID)
    assert request.account_name is None
    assert request.role_name is None
    assert request.tags == {}
    assert request.account_id is None
    assert request.iam_user_access_to_billing == "DENY"


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("email", "message"),
    [
        pytest.param("a@b.c", "6 to 64 characters", id="too-short"),
        pytest.param("a" * 53 + "@example.com", "6 to 64 characters", id="too-long"),
        pytest.param("ops@@example.com", "exactly one @", id="two-at-signs"),
        pytest.param("ops@acme@example.com", "exactly one @", id="two-at-signs-apart"),
        pytest.param("opsexample.com", "exactly one @", id="no-at-sign"),
        pytest.param("@example.com", "local part", id="empty-local-part"),
        pytest.param(".ops@example.com", "must not start with a dot", id="leading-dot"),
        pytest.param("o ps@example.com", "must not contain", id="space"),
        pytest.param("o\tps@example.com", "must not contain", id="tab"),
        pytest.param('o"ps@example.com', "must not contain", id="double-quote"),
        pytest.param("o(ps)@example.com", "must not contain", id="parenthesis"),
        pytest.param("o<ps>@example.com", "must not contain", id="angle-bracket"),
        pytest.param("o[ps]@example.com", "must not contain", id="square-bracket"),
        pytest.param("o:ps@example.com", "must not contain", id="colon"),
        pytest.param("o;ps@example.com", "must not contain", id="semicolon"),
        pytest.param("o,ps@example.com", "must not contain", id="comma"),
        pytest.param("o\\ps@example.com", "must not contain", id="backslash"),
        pytest.param("o|ps@example.com", "must not contain", id="pipe"),
        pytest.param("o%ps@example.com", "must not contain", id="percent"),
        pytest.param("o&ps@example.com", "must not contain", id="ampersand"),
        pytest.param("o'ps@example.com", "must not contain", id="apostrophe"),
        pytest.param("ops@exa_mple.com", "letters, digits, dots and hyphens", id="underscore-in-domain"),
        pytest.param("ops@exämple.com", "7-bit ASCII", id="non-ascii-domain"),
        pytest.param("öps@example.com", "7-bit ASCII", id="non-ascii-local-part"),
        pytest.param("ops@.example.com", "must not start or end", id="domain-leading-dot"),
        pytest.param("ops@example.com.", "must not start or end", id="domain-trailing-dot"),
        pytest.param("ops@-example.com", "must not start or end", id="domain-leading-hyphen"),
        pytest.param("ops@example.com-", "must not start or end", id="domain-trailing-hyphen"),
        pytest.param("ops@localhost", "at least one dot", id="domain-without-dot"),
    ],
)
def test_an_email_organizations_would_refuse_is_refused_naming_email(email, message):
    problem = only_problem(email=email)
    assert problem["field"] == "email"
    assert message in problem["message"]


@pytest.mark.parametrize(
    "email",
    [
        "a@b.co",  # exactly 6 characters
        "o" * 52 + "@example.com",  # exactly 64 characters
        "first.last+tag@mail.example.co.uk",
        "OPS@Example.COM",
        "ops-1_2=3@sub-domain.example.com",
    ],
)
def test_an_email_organizations_accepts_is_accepted(email):
    assert OnboardingRequest.model_validate({**VALID, "email": email}).email == email


def test_the_email_length_bounds_are_the_documented_ones():
    assert (rules.EMAIL_MIN_LENGTH, rules.EMAIL_MAX_LENGTH) == (6, 64)


# --------------------------------------------------------------------------- account name


def test_an_account_name_over_50_characters_is_refused_naming_account_name():
    problem = only_problem(accountName="x" * 51)
    assert problem["field"] == "accountName"
    assert "1 to 50 characters" in problem["message"]


def test_an_account_name_of_50_characters_is_accepted():
    assert OnboardingRequest.model_validate({**VALID, "accountName": "x" * 50}).account_name == "x" * 50


@pytest.mark.parametrize("name", ["", "line\nbreak", "tab\there", "bell\x07", "delete\x7f", "café"])
def test_an_empty_or_non_printable_account_name_is_refused_naming_account_name(name):
    problem = only_problem(accountName=name)
    assert problem["field"] == "accountName"
    assert "characters" in problem["message"]


def test_the_longest_default_account_name_fits_the_limit():
    # Slugs are at most 24 characters: <client>-<project> is at most 49, within 50.
    request = OnboardingRequest.model_validate({**VALID, "client": "c" * 24, "project": "p" * 24})
    assert request.account_name is None
    assert len(f"{request.client}-{request.project}") <= rules.ACCOUNT_NAME_MAX_LENGTH


# --------------------------------------------------------------------------- role name


@pytest.mark.parametrize(
    ("role_name", "message"),
    [
        pytest.param("", "1 to 64 characters", id="empty"),
        pytest.param("r" * 65, "1 to 64 characters", id="too-long"),
        pytest.param("Org Access", "1 to 64 characters", id="space"),
        pytest.param("Org/Access", "1 to 64 characters", id="slash"),
        pytest.param("Rôle", "1 to 64 characters", id="non-ascii-letter"),
        pytest.param("AWSServiceRoleForOrganizations", "AWSServiceRoleFor", id="service-linked-prefix"),
    ],
)
def test_a_role_name_iam_would_refuse_is_refused_naming_role_name(role_name, message):
    problem = only_problem(roleName=role_name)
    assert problem["field"] == "roleName"
    assert message in problem["message"]


@pytest.mark.parametrize("role_name", ["r" * 64, "Org+Access=1,2.3@x_y-z", "MyAWSServiceRoleFor"])
def test_a_role_name_iam_accepts_is_accepted(role_name):
    assert OnboardingRequest.model_validate({**VALID, "roleName": role_name}).role_name == role_name


def test_a_role_name_with_a_trailing_newline_is_refused():
    problem = only_problem(roleName="OrganizationAccountAccessRole\n")
    assert problem["field"] == "roleName"


# --------------------------------------------------------------------------- client and project slugs


@pytest.mark.parametrize("field", ["client", "project"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("Acme", id="uppercase"),
        pytest.param("-acme", id="leading-hyphen"),
        pytest.param("acme-", id="trailing-hyphen"),
        pytest.param("ac_me", id="underscore"),
        pytest.param("ac me", id="space"),
        pytest.param("acmé", id="non-ascii"),
        pytest.param("a" * 25, id="25-characters"),
    ],
)
def test_a_bad_slug_is_refused_naming_its_field(field, value):
    problems = problems_of(**{field: value, "accountName": "explicit"})
    assert [problem["field"] for problem in problems] == [field]
    assert "lowercase slug" in problems[0]["message"]


@pytest.mark.parametrize("value", ["a", "a1", "acme-corp", "0" * 24])
def test_a_good_slug_is_accepted(value):
    request = OnboardingRequest.model_validate({**VALID, "client": value, "project": value})
    assert (request.client, request.project) == (value, value)


@pytest.mark.parametrize("field", ["client", "project"])
def test_a_slug_with_a_trailing_newline_is_refused_naming_its_field(field):
    problems = problems_of(**{field: "acme\n", "accountName": "explicit"})
    assert [problem["field"] for problem in problems] == [field]


def test_a_bad_client_is_blamed_on_client_not_on_the_default_account_name():
    problems = problems_of(client="acme\n")
    assert [problem["field"] for problem in problems] == ["client"]


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("key", "message"),
    [
        pytest.param("client", "set by orgvend", id="reserved-client"),
        pytest.param("project", "set by orgvend", id="reserved-project"),
        pytest.param("aws:cloudformation", "aws:", id="aws-prefix"),
        pytest.param("AWS:Thing", "aws:", id="aws-prefix-any-case"),
        pytest.param("cost#center", "may contain only", id="hash"),
        pytest.param("cost*", "may contain only", id="asterisk"),
        pytest.param("tab\tkey", "may contain only", id="tab"),
        pytest.param("k" * 129, "1 to 128", id="too-long"),
        pytest.param("", "1 to 128", id="empty"),
    ],
)
def test_a_bad_tag_key_is_refused_naming_tags_and_the_key(key, message):
    problem = only_problem(tags={key: "value"})
    assert problem["field"].startswith("tags.")
    assert key in problem["field"]
    assert message in problem["message"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("v" * 257, "at most 256", id="too-long"),
        pytest.param("a;b", "may contain only", id="semicolon"),
        pytest.param("line\nbreak", "may contain only", id="newline"),
        pytest.param("<script>", "may contain only", id="angle-brackets"),
    ],
)
def test_a_bad_tag_value_is_refused_naming_its_key(value, message):
    problem = only_problem(tags={"owner": value})
    assert problem["field"] == "tags.owner"
    assert message in problem["message"]


def test_unicode_letters_digits_spaces_and_the_allowed_punctuation_are_fine_in_tags():
    tags = {
        "Kostenstelle": "Zürich Nord",
        "部署": "開発チーム",
        "équipe_1.2:3/4=5+6-7@8": "Ωmega ٣",
        "empty-value": "",
        "k" * 128: "v" * 256,
    }
    assert OnboardingRequest.model_validate({**VALID, "tags": tags}).tags == tags


def test_47_tags_are_accepted_because_orgvend_adds_client_project_and_managed_by():
    tags = {f"tag{index}": "x" for index in range(47)}
    assert len(OnboardingRequest.model_validate({**VALID, "tags": tags}).tags) == 47


def test_more_than_47_tags_are_refused_naming_tags():
    problem = only_problem(tags={f"tag{index}": "x" for index in range(48)})
    assert problem["field"] == "tags"
    assert "at most 47 tags" in problem["message"]


def test_client_and_project_differ_from_tag_keys_that_only_look_alike():
    # Tag keys are case-sensitive in Organizations: "Client" is not orgvend's "client".
    request = OnboardingRequest.model_validate({**VALID, "tags": {"Client": "x", "PROJECT": "y"}})
    assert request.tags == {"Client": "x", "PROJECT": "y"}


# --------------------------------------------------------------------------- other fields


def test_an_unknown_field_is_refused_naming_it():
    problem = only_problem(accountAlias="acme")
    assert problem["field"] == "accountAlias"
    assert "Extra inputs are not permitted" in problem["message"]


@pytest.mark.parametrize("missing", ["client", "project", "email"])
def test_a_missing_required_field_is_named(missing):
    request = {key: value for key, value in VALID.items() if key != missing}
    with pytest.raises(ValidationError) as raised:
        OnboardingRequest.model_validate(request)
    assert [problem["field"] for problem in validation_problems(raised.value)] == [missing]


@pytest.mark.parametrize("account_id", ["12345678901", "1234567890123", "12345678901a", "123456789012\n"])
def test_an_account_id_not_of_12_digits_is_refused_naming_account_id(account_id):
    assert only_problem(accountId=account_id)["field"] == "accountId"


def test_an_account_id_of_non_ascii_digits_is_refused():
    # pydantic's regex engine matches \d to any Unicode digit: the pattern must say [0-9].
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in "123456789012")  # FULLWIDTH DIGITs
    assert only_problem(accountId=fullwidth)["field"] == "accountId"


def test_iam_user_access_to_billing_accepts_only_allow_or_deny():
    problem = only_problem(iamUserAccessToBilling="YES")
    assert problem["field"] == "iamUserAccessToBilling"


def test_every_problem_of_a_request_is_reported_at_once():
    problems = problems_of(client="Acme", email="ops@@example.com", roleName="AWSServiceRoleForX")
    assert {problem["field"] for problem in problems} == {"client", "email", "roleName"}
    description = describe_problems(problems)
    assert "client: must be a lowercase slug" in description
    assert "email: must contain exactly one @" in description
    assert "roleName: must not start with AWSServiceRoleFor" in description
