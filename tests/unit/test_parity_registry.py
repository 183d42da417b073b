"""The parity registry is the complete, documented list of where the embedded AWS departs from stock moto."""

import ast
import dataclasses
import importlib
from collections import Counter
from collections.abc import Iterable

import pytest

from orgvend_local.parity import PATCHES, Kind, applied, applied_names, apply_all, markdown, undo_all
from orgvend_local.parity.organization_events import CREATE_ACCOUNT_RESULT_EVENTS
from orgvend_local.parity.organizations import (
    ACCESS_ROLE_IS_ADMINISTRATOR,
    ASYNCHRONOUS_CREATION,
    EMAIL_ALREADY_EXISTS,
)
from orgvend_local.parity.patch import (
    DECLARATIONS,
    MISSING,
    Patcher,
    Replacement,
    declared,
    load_declarations,
)
from orgvend_local.parity.registry import _check, applied_replacements, readme_with_table, with_needs
from orgvend_local.template import PROJECT_ROOT

from .parity_support import StandaloneEmulator

EMULATOR_PACKAGE = PROJECT_ROOT / "local" / "orgvend_local"
REGENERATE = "python -m orgvend_local.parity --update-readme"


def test_the_readme_parity_table_is_the_one_the_registry_generates() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme_with_table(readme) == readme, (
        f"README.md's parity table is not what the registry (orgvend_local.parity.PATCHES) generates: run `{REGENERATE}`"
    )


def test_the_table_has_a_row_per_patch_with_its_aws_documentation() -> None:
    table = markdown()
    for patch in PATCHES:
        [row] = [line for line in table.splitlines() if line.startswith(f"| `{patch.name}` ")]
        if patch.aws_doc:
            assert f"({patch.aws_doc})" in row


def test_every_record_names_a_module_that_exists() -> None:
    for patch in PATCHES:
        assert importlib.import_module(patch.module), patch.name
    emulations = {patch.name for patch in PATCHES if patch.kind is Kind.EMULATION}
    assert emulations == {"cloudformation-sam-deployment", "apigateway-lambda-proxy"}


def _moto_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "moto":
            names |= {alias.asname or alias.name for alias in node.names}
        if isinstance(node, ast.Import):
            names |= {
                alias.asname or alias.name.split(".")[0]
                for alias in node.names
                if alias.name.startswith("moto")
            }
    return names


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def moto_patched_directly(source: str) -> list[int]:
    """The lines that assign to, setattr, or delete an attribute of something imported from moto."""
    tree = ast.parse(source)
    moto_names = _moto_names(tree)
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
        ):
            if node.args and _root(node.args[0]) in moto_names:
                lines.append(node.lineno)
            continue
        lines += [
            node.lineno
            for target in targets
            if isinstance(target, ast.Attribute) and _root(target) in moto_names
        ]
    return sorted(lines)


def test_the_scan_finds_a_patch_made_around_the_registry() -> None:
    source = (
        "from moto.iam.responses import IamResponse\n"
        "import moto.backends as moto_backends\n"
        "IamResponse.list_organizations_features = lambda self: None\n"
        "setattr(moto_backends, 'list_of_moto_modules', list)\n"
        "del IamResponse.something\n"
        "ours = object()\n"
        "ours.attribute = 1\n"
    )
    assert moto_patched_directly(source) == [3, 4, 5]


def test_moto_is_patched_only_through_the_registry() -> None:
    """No module of the emulator changes an attribute of something it imported from moto: every change of
    moto goes through a Patcher, so PATCHES lists it and undo restores it."""
    offences = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}"
        for path in sorted(EMULATOR_PACKAGE.rglob("*.py"))
        for line in moto_patched_directly(path.read_text())
    ]
    assert not offences, f"moto patched outside orgvend_local.parity's Patcher: {offences}"


def test_apply_all_is_idempotent_bound_to_one_emulator_and_undone_exactly() -> None:
    emulator = StandaloneEmulator()
    assert not applied_names()
    try:
        apply_all(emulator)
        replacements = applied_replacements()
        current = [vars(r.owner).get(r.attribute, MISSING) for r in replacements]
        assert applied_names() == [patch.name for patch in PATCHES if patch.apply is not None]

        apply_all(emulator)  # again: nothing changes
        assert [vars(r.owner).get(r.attribute, MISSING) for r in applied_replacements()] == current
        assert len(applied_replacements()) == len(replacements)
        with pytest.raises(RuntimeError, match="one embedded AWS per process"):
            apply_all(StandaloneEmulator())
        with (
            pytest.raises(RuntimeError, match="already patched"),
            applied(emulator, ACCESS_ROLE_IS_ADMINISTRATOR.name),
        ):
            pass
    finally:
        undo_all()

    assert not applied_names()
    stock: dict[tuple[int, str], Replacement] = {}
    for replacement in replacements:  # patches layered on one attribute: the first one saw moto's own
        stock.setdefault((id(replacement.owner), replacement.attribute), replacement)
    not_restored = [
        f"{replacement.owner}.{replacement.attribute}"
        for replacement in stock.values()
        if vars(replacement.owner).get(replacement.attribute, MISSING) is not replacement.original
    ]
    assert not not_restored
    assert not emulator.organizations_behaviour.on_creation_end  # a listener is taken back too


def test_a_patch_comes_with_what_it_needs_in_registry_order() -> None:
    names = [patch.name for patch in with_needs((CREATE_ACCOUNT_RESULT_EVENTS.name,))]
    assert names == [
        ACCESS_ROLE_IS_ADMINISTRATOR.name,
        EMAIL_ALREADY_EXISTS.name,
        ASYNCHRONOUS_CREATION.name,
        CREATE_ACCOUNT_RESULT_EVENTS.name,
    ]


def test_the_patcher_restores_an_attribute_that_was_absent_by_removing_it() -> None:
    class Owner:
        present = "before"

    patcher = Patcher()
    patcher.replace(Owner, "present", "after")
    patcher.replace(Owner, "absent", "added")
    assert (Owner.present, Owner.absent) == ("after", "added")
    patcher.undo()
    assert Owner.present == "before"
    assert not hasattr(Owner, "absent")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Not Kebab"}, "kebab-case"),
        ({"needs": ("stepfunctions-redrive-execution",)}, "must come before it"),
        ({"aws_doc": None}, "AWS documentation"),
        ({"aws_doc": "https://example.com/blog"}, "AWS documentation"),
        ({"apply": None}, "emulation"),
    ],
)
def test_a_registry_that_cannot_be_applied_or_documented_is_refused(
    change: dict[str, object], message: str
) -> None:
    broken = dataclasses.replace(ACCESS_ROLE_IS_ADMINISTRATOR, **change)
    with pytest.raises(ValueError, match=message):
        _check((broken,))


def test_a_duplicate_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        _check((ACCESS_ROLE_IS_ADMINISTRATOR, ACCESS_ROLE_IS_ADMINISTRATOR))


def test_a_readme_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="no parity section"):
        readme_with_table("# a README without the table\n")


def test_the_command_prints_the_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orgvend_local.parity.__main__ import main  # noqa: PLC0415

    monkeypatch.setattr("sys.argv", ["python -m orgvend_local.parity", "--markdown"])
    main()
    assert capsys.readouterr().out == markdown()


def test_every_module_of_the_parity_package_contributes_to_the_registry() -> None:
    recorded = {patch.canary.__module__.rsplit(".", 1)[-1] for patch in PATCHES}
    modules = {path.stem for path in (EMULATOR_PACKAGE / "parity").glob("*.py")}
    assert modules - recorded == {"__init__", "__main__", "patch", "registry"}


# --------------------------------------------------------------------------- patches.toml and declared()


def declared_in(source: str) -> list[str]:
    """The patch names a module binds with ``declared("<name>", ...)``."""
    return [
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "declared"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]


def orphans(tables: Iterable[str], bindings: Counter[str]) -> list[str]:
    """What breaks "every table is bound by exactly one declared(), every declared() names a table"."""
    tables = set(tables)
    return (
        [f"[{name}] is bound by no declared()" for name in sorted(tables - bindings.keys())]
        + [f'declared("{name}") names no table' for name in sorted(bindings.keys() - tables)]
        + [f"[{name}] is bound {count} times" for name, count in sorted(bindings.items()) if count > 1]
    )


def test_the_orphan_check_sees_both_directions() -> None:
    assert orphans({"kept", "unbound"}, Counter(["kept", "undeclared", "twice", "twice"])) == [
        "[unbound] is bound by no declared()",
        'declared("twice") names no table',
        'declared("undeclared") names no table',
        "[twice] is bound 2 times",
    ]


def test_every_table_of_patches_toml_is_bound_once_and_every_binding_has_a_table() -> None:
    bindings = Counter(
        name for path in (EMULATOR_PACKAGE / "parity").glob("*.py") for name in declared_in(path.read_text())
    )
    assert not orphans(DECLARATIONS, bindings)
    assert [patch.name for patch in PATCHES] == list(DECLARATIONS), (
        "patches.toml lists the patches in registry order, and PATCHES registers every one"
    )


def test_declared_refuses_a_name_without_a_table() -> None:
    with pytest.raises(
        ValueError, match=r"declared\('no-such-patch'\): patches.toml has no \[no-such-patch\]"
    ):
        declared("no-such-patch", canary=lambda: None)


BEHAVIOUR = """
[a-patch]
kind = "behaviour"
aws = "AWS does it"
aws_doc = "https://docs.aws.amazon.com/page.html"
moto = "moto does not"
closed_by = "the emulator does it"
"""


def test_a_declaration_carries_its_table_and_a_cost_needs_no_aws() -> None:
    cost = '[a-cost]\nkind = "cost"\nmoto = "slow"\nclosed_by = "fast"\nneeds = ["a-patch"]\n'
    declarations = load_declarations(BEHAVIOUR + cost)
    assert list(declarations) == ["a-patch", "a-cost"]
    assert declarations["a-patch"].aws_doc == "https://docs.aws.amazon.com/page.html"
    assert (declarations["a-cost"].kind, declarations["a-cost"].aws) == (Kind.COST, None)
    assert declarations["a-cost"].needs == ("a-patch",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("", 'owner = "me"\n'), r"\[a-patch\] owner: Extra inputs are not permitted"),
        (
            ('"behaviour"', '"behavior"'),
            r"\[a-patch\] kind: Input should be 'behaviour', 'emulation' or 'cost'",
        ),
        (('moto = "moto does not"\n', ""), r"\[a-patch\] moto: Field required"),
        (('aws = "AWS does it"\n', ""), r"\[a-patch\] aws: what AWS does is missing"),
        (
            ("https://docs.aws.amazon.com/", "https://example.com/"),
            r"\[a-patch\] aws_doc: the AWS documentation",
        ),
        (('"moto does not"', "3"), r"\[a-patch\] moto: Input should be a valid string"),
    ],
)
def test_a_malformed_table_is_refused_naming_the_patch_and_the_field(
    change: tuple[str, str], message: str
) -> None:
    old, new = change
    text = BEHAVIOUR + new if not old else BEHAVIOUR.replace(old, new)
    with pytest.raises(ValueError, match=message):
        load_declarations(text)


def test_a_value_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ValueError, match="'kind' is not a table"):
        load_declarations('kind = "behaviour"\n')
