"""Each input contract's pattern is written once, in orgvend/rules.py: the API's models and parameters,
the workflows' checks and the CLI's arguments use it from there.

A copy is found by what it does, not by how it is spelled: any string literal in the product's code
(layers/common, cli, functions) that, read as a regex, accepts every valid example of a contract and
refuses every invalid one is that contract written a second time.
"""

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orgvend import rules

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("layers/common", "cli", "functions")
RULES = ROOT / "layers/common/orgvend/rules.py"


def pattern_rule(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    return lambda value: None if pattern.fullmatch(value) else f"does not match {pattern.pattern}"


@dataclass(frozen=True)
class Contract:
    name: str
    rule: Callable[[str], str | None]  # rules.py's: None when the value is valid
    valid: tuple[str, ...]
    invalid: tuple[str, ...]  # near misses, at the edges of the contract


CONTRACTS = (
    Contract(
        "account ID",
        rules.account_id_problem,
        ("123456789012", "000000000000"),
        ("12345678901", "1234567890123", "12345678901a", "123456789012\n"),
    ),
    Contract(
        "OU ID",
        rules.ou_id_problem,
        ("ou-abcd-12345678", "ou-0a1b-abcdefgh1234"),
        ("ou-abc-12345678", "ou-abcd-1234567", "OU-abcd-12345678", "ou-abcd_12345678"),
    ),
    Contract(
        "orgvend's scope (an OU, never the root)",
        pattern_rule(rules.SCOPE_OU_ID_PATTERN),
        ("ou-abcd-12345678", "ou-0a1b-abcdefgh1234"),
        ("r-abcd", "ou-abc-12345678", "ou-abcd-1234567", "OU-abcd-12345678"),
    ),
    Contract(
        "client or project (slug)",
        rules.slug_problem,
        ("acme", "acme-web", "a1", "a" * 24),
        ("Acme", "acme_web", "acme web", "a" * 25, ""),
    ),
    Contract(
        "IAM role name",
        rules.role_name_problem,
        ("OrganizationAccountAccessRole", "orgvend-access", "a", "Role+=,.@_-", "r" * 64),
        ("has space", "r" * 65, "role/name", ""),
    ),
    Contract(
        "onboarding or offboarding ID (execution name)",
        rules.execution_name_problem,
        ("k-" + "0" * 48, "3f1c2a4e-9b7d-4c1e-8f6a-0d2b3c4e5f6a", "a", "x" * 80),
        ("x" * 81, "has space", "a/b", "é", ""),
    ),
    Contract(
        "email",
        rules.email_problem,
        ("aws+acme-web@example.com", "ops@mail.example.com"),
        ("nope", "a@b", "@example.com", "a b@example.com", "x" * 60 + "@example.com"),
    ),
    Contract(
        "account name",
        rules.account_name_problem,
        ("acme-web", "Acme Web (prod)", "n" * 50),
        ("n" * 51, "", "tab\there", "é"),
    ),
    Contract(
        "AWS Region",
        pattern_rule(rules.REGION_PATTERN),
        ("us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"),
        ("Europe", "mars", "us-east", "US-EAST-1", "us-east-1a"),
    ),
    Contract(
        "IAM account alias",
        rules.account_alias_problem,
        ("acme-web", "a1b", "a" * 63, "my-1-alias"),
        ("ab", "a" * 64, "-acme", "acme-", "acme--web", "Acme", "acme_web"),
    ),
    Contract(
        "month (YYYY-MM)",
        pattern_rule(rules.MONTH_PATTERN),
        ("2026-11", "2026-01", "2026-12", "1999-10"),
        ("2026-13", "2026-00", "26-11", "2026-1", "2026/11", "2026-11-01", "0000-01"),
    ),
    Contract(
        "source profile",
        rules.source_profile_problem,
        ("default", "orgvend-admin", "a.b_c", "a", "p" * 64),
        ("my profile", "p" * 65, "[default]", "a+b", ""),
    ),
)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.name)
def test_the_examples_are_right_by_the_rules(contract: Contract) -> None:
    assert [value for value in contract.valid if contract.rule(value)] == []
    assert [value for value in contract.invalid if not contract.rule(value)] == []


def assigned_names(tree: ast.Module) -> dict[int, str]:
    """The name each line's module-level assignment binds (to say which constant a literal is)."""
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                names[line] = ", ".join(ast.unparse(target) for target in targets)
    return names


def regex_literals(source: str) -> Iterator[tuple[int, str, re.Pattern[str]]]:
    """Every string literal of ``source`` that is a regex (line, the name it is bound to, the regex)."""
    tree = ast.parse(source)
    names = assigned_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
            try:
                compiled = re.compile(node.value)
            except re.error:
                continue
            yield node.lineno, names.get(node.lineno, ""), compiled


def accepts(regex: re.Pattern[str], value: str) -> bool:
    return regex.fullmatch(value) is not None


def copied_contracts(source: str) -> Iterator[tuple[int, str, str]]:
    """(line, name, contract) for each literal of ``source`` that behaves as a contract."""
    for line, name, regex in regex_literals(source):
        for contract in CONTRACTS:
            if all(accepts(regex, value) for value in contract.valid) and not any(
                accepts(regex, value) for value in contract.invalid
            ):
                yield line, name, contract.name


def product_sources() -> Iterator[Path]:
    for directory in SCANNED:
        yield from sorted((ROOT / directory).rglob("*.py"))


def test_no_contract_is_written_outside_rules() -> None:
    sources = [path for path in product_sources() if path != RULES]
    assert len(sources) > 50  # the scan sees the product
    copies = [
        f"{path.relative_to(ROOT)}:{line} {name or '(literal)'} is the {contract} pattern again: "
        "use orgvend.rules'"
        for path in sources
        for line, name, contract in copied_contracts(path.read_text())
    ]
    assert copies == []


@pytest.mark.parametrize(
    ("copy", "contract"),
    [
        ('client = Query(pattern=r"^[a-z0-9-]{1,24}$")', "client or project (slug)"),
        ('ACCOUNT = re.compile(r"\\d{12}")', "account ID"),
        ('ok = re.fullmatch("^[0-9]{12}$", value)', "account ID"),
        ('Path(pattern=r"^[0-9A-Za-z_-]{1,80}$")', "onboarding or offboarding ID (execution name)"),
        ('REGION = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"', "AWS Region"),
        ('OU = "^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"', "orgvend's scope (an OU, never the root)"),
    ],
)
def test_the_scan_finds_a_copy_however_it_is_spelled(copy: str, contract: str) -> None:
    assert contract in {found for _, _, found in copied_contracts(copy)}


def test_the_scan_leaves_other_patterns_alone() -> None:
    others = """
EVENT_SOURCE = r"^[a-z0-9.-]{1,64}$"
SESSION = r"^[\\w+=,.@-]{2,64}$"
PREFIX = r"^[A-Za-z0-9_.-]{0,32}$"
TEXT = "the account 123456789012 is not a member"
"""
    assert list(copied_contracts(others)) == []
