"""The administrator-minus-billing policy document."""

import json
import re

from orgvend.baseline_policy import (
    ACCOUNT_SETTINGS_ACTIONS,
    BILLING_SERVICE_PREFIXES,
    MAX_POLICY_CHARACTERS,
    administrator_minus_billing,
    compact,
    same_document,
)


def statements(effect: str) -> list[dict]:
    return [s for s in administrator_minus_billing()["Statement"] if s["Effect"] == effect]


def denied_actions() -> list[str]:
    actions: list[str] = []
    for statement in statements("Deny"):
        action = statement["Action"]
        actions += [action] if isinstance(action, str) else action
    return actions


def test_the_document_fits_iams_managed_policy_limit():
    document = compact(administrator_minus_billing())
    assert MAX_POLICY_CHARACTERS == 6144
    assert len(re.sub(r"\s", "", document)) < MAX_POLICY_CHARACTERS
    # Pretty-printed, as a person would paste it, it still fits once whitespace is ignored.
    pretty = json.dumps(administrator_minus_billing(), indent=4)
    assert len(re.sub(r"\s", "", pretty)) < MAX_POLICY_CHARACTERS


def test_the_document_is_valid_iam_json():
    document = administrator_minus_billing()
    assert document["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in document["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in document["Statement"]:
        assert statement["Resource"] == "*"
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])


def test_it_allows_everything():
    allows = statements("Allow")
    assert len(allows) == 1
    assert allows[0]["Action"] == "*"
    assert allows[0]["Resource"] == "*"
    assert "Condition" not in allows[0]


def test_it_denies_every_billing_and_cost_prefix():
    denied = denied_actions()
    for prefix in BILLING_SERVICE_PREFIXES:
        assert f"{prefix}:*" in denied, prefix
    for must_have in ("aws-portal", "billing", "ce", "cur", "budgets", "payments", "tax", "invoicing"):
        assert must_have in BILLING_SERVICE_PREFIXES


def test_it_denies_exactly_the_eight_account_ownership_actions():
    account_actions = [action for action in denied_actions() if action.startswith("account:")]
    assert sorted(account_actions) == sorted(ACCOUNT_SETTINGS_ACTIONS)
    assert len(set(account_actions)) == 8
    assert {
        "account:PutContactInformation",
        "account:PutAlternateContact",
        "account:DeleteAlternateContact",
        "account:PutAccountName",
        "account:StartPrimaryEmailUpdate",
        "account:AcceptPrimaryEmailUpdate",
        "account:CloseAccount",
        "account:PutChallengeQuestions",
    } == set(account_actions)


def test_it_never_denies_all_of_account_so_regions_can_still_be_enabled():
    denied = denied_actions()
    assert "account:*" not in denied
    assert not any(action in ("*", "account:Enable*", "account:EnableRegion") for action in denied)


def test_every_denied_action_is_a_prefix_wildcard_or_a_listed_account_action():
    expected = {f"{prefix}:*" for prefix in BILLING_SERVICE_PREFIXES} | set(ACCOUNT_SETTINGS_ACTIONS)
    assert set(denied_actions()) == expected
    assert len(denied_actions()) == len(expected)  # no duplicates


def test_each_call_returns_a_fresh_document():
    first = administrator_minus_billing()
    first["Statement"].clear()
    assert administrator_minus_billing()["Statement"]


def test_compact_is_sorted_and_has_no_whitespace_between_tokens():
    text = compact({"b": 1, "a": [1, 2]})
    assert text == '{"a":[1,2],"b":1}'


def test_same_document_ignores_key_order_and_formatting():
    document = administrator_minus_billing()
    reordered = {
        "Statement": [dict(reversed(list(statement.items()))) for statement in document["Statement"]],
        "Version": document["Version"],
    }
    assert same_document(document, reordered)
    assert same_document(json.dumps(reordered, indent=2), document)
    assert same_document(compact(document), json.dumps(document))


def test_same_document_sees_a_real_difference():
    document = administrator_minus_billing()
    changed = administrator_minus_billing()
    changed["Statement"][1]["Action"] = changed["Statement"][1]["Action"][:-1]
    assert not same_document(document, changed)
    assert not same_document(json.dumps(document), json.dumps(changed))
    widened = administrator_minus_billing()
    widened["Statement"][0]["Effect"] = "Deny"
    assert not same_document(document, widened)
