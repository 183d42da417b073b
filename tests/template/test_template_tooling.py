"""The AWS tools' own checks: sam validate --lint, cfn-lint, and an offline-capable sam build."""

import json
import re
import subprocess
from pathlib import Path

from packaging.requirements import Requirement
from template_support import (
    LAYER_REQUIREMENTS_PATH,
    ROOT,
    TEMPLATE_PATH,
    resources_of_type,
    tool_environment,
    venv_bin,
)

# Lambda architecture → the machine name in a compiled extension's file name.
MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}


def run(command: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=tool_environment(), capture_output=True, text=True, timeout=timeout, check=False
    )


def test_sam_validate_lint():
    result = run([str(venv_bin() / "sam"), "validate", "--lint"], ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint():
    result = run([str(venv_bin() / "cfn-lint"), str(TEMPLATE_PATH)], ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def dist_info_name(requirement: Requirement) -> str:
    return re.sub(r"[-_.]+", "_", requirement.name).lower()


def test_sam_build(tmp_path, sam_template, lambda_functions):
    build_dir = tmp_path / "build"
    # Run from tmp_path so that nothing (.aws-sam/deps, caches) is written into the project.
    result = run(
        [
            str(venv_bin() / "sam"),
            "build",
            "--template-file",
            str(TEMPLATE_PATH),
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    for function_id in resources_of_type(sam_template, "AWS::Serverless::Function"):
        module = lambda_functions[function_id]["Properties"]["Handler"].rsplit(".", 1)[0]
        handler_file = build_dir / function_id / Path(*module.split(".")).with_suffix(".py")
        assert handler_file.is_file(), f"{handler_file} missing from the build"

    layers = resources_of_type(sam_template, "AWS::Serverless::LayerVersion")
    assert layers
    pins = [
        Requirement(line.split("#", 1)[0].strip())
        for line in LAYER_REQUIREMENTS_PATH.read_text().splitlines()
        if line.split("#", 1)[0].strip()
    ]
    for layer_id, layer in layers.items():
        python = build_dir / layer_id / "python"
        assert (python / "orgvend" / "__init__.py").is_file()
        assert (python / "pydantic" / "__init__.py").is_file()
        for pin in pins:
            (version,) = [spec.version for spec in pin.specifier]
            dist_info = python / f"{dist_info_name(pin)}-{version}.dist-info"
            assert dist_info.is_dir(), f"{layer_id}: {pin} not installed as pinned"
        # Compiled dependencies must be built for the functions' architecture.
        machine = MACHINE[layer["Metadata"]["BuildArchitecture"]]
        extensions = list((python / "pydantic_core").glob("_pydantic_core.*.so"))
        assert extensions, "pydantic_core has no compiled extension"
        assert all(machine in extension.name for extension in extensions), extensions


def test_cfn_lint_of_the_transformed_template(tmp_path, cfn):
    """What CloudFormation receives after the SAM transform, linted too: some errors only show there (an
    Fn::Join whose delimiter is a function, E1018, passed both checks above on the SAM template)."""
    transformed = tmp_path / "transformed.json"
    transformed.write_text(json.dumps(cfn))
    # W: warnings on SAM's generated code (its roles, its permissions) are SAM's, not ours; errors are ours.
    result = run([str(venv_bin() / "cfn-lint"), str(transformed), "--ignore-checks", "W"], ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
