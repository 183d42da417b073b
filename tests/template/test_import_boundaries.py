"""The import boundaries of pyproject.toml's [tool.importlinter] hold, and each one would catch its breach.

lint-imports (import-linter) reads the contracts; make typecheck runs it too. Each breach is made in a
copy of the code (one import added to one module) to prove the contract is not vacuous: it names the
modules it means, and the linter sees them (the handlers under functions/ included).
"""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from template_support import PYPROJECT_PATH, ROOT, venv_bin

# Where each package lives, relative to the repository (the PYTHONPATH of make typecheck).
SOURCE_ROOTS = ("layers/common", "local", "cli", ".")
COPIED = ("layers/common/orgvend", "local/orgvend_local", "cli/orgvend_cli", "functions", "pyproject.toml")


def contracts() -> list[str]:
    return [
        contract["name"]
        for contract in tomllib.loads(PYPROJECT_PATH.read_text())["tool"]["importlinter"]["contracts"]
    ]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    python_path = ":".join(str(root / source) for source in SOURCE_ROOTS)
    return subprocess.run(
        [str(venv_bin() / "lint-imports"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": python_path, "PATH": str(venv_bin()), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in contracts():
        assert f"{name} KEPT" in result.stdout, result.stdout
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


# (module file in the copy, the import added to it, the contract it breaks)
BREACHES = [
    (
        "layers/common/orgvend/steps/onboarding/create_account.py",
        "import orgvend.api",
        "Workflow steps do not import the HTTP API",
    ),
    (
        "layers/common/orgvend/reactions/follow_organization.py",
        "from orgvend import api",
        "Reactions to events do not import the HTTP API",
    ),
    (
        "functions/onboarding/create_account/app.py",
        "import orgvend_local.template",
        "The product (shared package, handlers, CLI) does not import the emulator",
    ),
    (
        "layers/common/orgvend/aws.py",
        "from orgvend_local import faults",
        "The product (shared package, handlers, CLI) does not import the emulator",
    ),
    (
        "cli/orgvend_cli/client.py",
        "import orgvend_local.runtime",
        "The product (shared package, handlers, CLI) does not import the emulator",
    ),
    (
        "layers/common/orgvend/models.py",
        "import orgvend_cli.render",
        "The shared package does not import the CLI",
    ),
    (
        "layers/common/orgvend/steps/onboarding/place_account.py",
        "from orgvend.steps.onboarding.claim_account import claim_account",
        "Steps are independent: what two steps share lives in a shared module",
    ),
    (
        "layers/common/orgvend/steps/offboarding/close_account.py",
        "from orgvend.steps.onboarding import create_account",
        "Steps are independent: what two steps share lives in a shared module",
    ),
]


def test_every_contract_has_a_breach_below():
    assert {contract for *_, contract in BREACHES} == set(contracts())


@pytest.mark.parametrize(("module", "line", "contract"), BREACHES, ids=[breach[0] for breach in BREACHES])
def test_a_breach_is_caught(tmp_path, module, line, contract):
    for relative in COPIED:
        source, copy = ROOT / relative, tmp_path / relative
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, copy)
    breached = tmp_path / module
    breached.write_text(breached.read_text() + f"\n{line}\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout
    assert f"Contracts: {len(contracts()) - 1} kept, 1 broken." in result.stdout, result.stdout
