"""Every `orgvend` command, with no AWS credentials anywhere, ends with one message and exit code 2:
never a traceback. The commands are read from the parser, so a new one is covered without a word here.

Each runs as a process of its own in an environment stripped of AWS_* variables, with an empty HOME and
empty AWS config files; its proxy is a closed port, so that nothing can reach real AWS even by mistake.
"""

import argparse
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from orgvend_cli import main as cli

REAL_AWS_API = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1"
# What the required arguments of a command are given, by metavar (positionals) or option.
SAMPLES = {
    "ACCOUNT_ID": "123456789012",
    "ONBOARDING_ID": "k-1",
    "OFFBOARDING_ID": "k-1",
    "ID": "k-1",
    "--client": "acme",
    "--project": "web",
    "--email": "aws+acme-web@example.com",
    "USD": "250",
    "CLIENT": "acme",
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def subcommands() -> dict[str, argparse.ArgumentParser]:
    [subparsers] = [
        action for action in cli.build_parser()._actions if isinstance(action, argparse._SubParsersAction)
    ]
    return dict(subparsers.choices)


def required_arguments(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """The least a command takes: a sample for each positional and each required option."""
    words = []
    for action in parser._actions:
        if action.option_strings and not action.required:
            continue
        key = action.option_strings[0] if action.option_strings else str(action.metavar or action.dest)
        if isinstance(action, argparse._SubParsersAction):  # a group's first command, with what it takes
            first = next(iter(action.choices))
            words += [first, *required_arguments(f"{name} {first}", action.choices[first])]
            continue
        if action.choices is not None:
            value = str(next(iter(action.choices)))
        elif key in SAMPLES:
            value = SAMPLES[key]
        else:
            raise AssertionError(f"orgvend {name}: add a sample for its required {key} to SAMPLES")
        words += [*action.option_strings[:1], value]
    return words


def command_line(
    name: str, parser: argparse.ArgumentParser, api_url: str, aws_endpoint: str | None
) -> list[str]:
    words = ["--api-url", api_url, name, *required_arguments(name, parser)]
    takes_endpoint = any("--aws-endpoint-url" in action.option_strings for action in parser._actions)
    if aws_endpoint and takes_endpoint:
        words += ["--aws-endpoint-url", aws_endpoint]
    return words


@pytest.fixture
def no_credentials(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    (config := tmp_path / "config").write_text("")
    (credentials := tmp_path / "credentials").write_text("")
    nowhere = f"http://127.0.0.1:{closed_port()}"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name.upper() not in ("NO_PROXY", "ORGVEND_API_URL")
    }
    return {
        **environment,
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        # Not credentials but where to look for them: an EC2 host's role must not stand in for none.
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTPS_PROXY": nowhere,
        "HTTP_PROXY": nowhere,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }


def run(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orgvend_cli", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


COMMANDS = subcommands()


def run_every_command(api_url: str, aws_endpoint: str | None, environment: dict[str, str]) -> dict[str, Any]:
    """Every command at once (each a process mostly waiting), by name."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {
            name: pool.submit(run, command_line(name, parser, api_url, aws_endpoint), environment)
            for name, parser in COMMANDS.items()
        }
        return {name: future.result() for name, future in runs.items()}


def unclean(completed: subprocess.CompletedProcess[str]) -> bool:
    return "Traceback" in completed.stdout + completed.stderr or completed.returncode != 2


def test_against_aws_without_credentials_every_command_says_what_to_set(
    no_credentials: dict[str, str],
) -> None:
    runs = run_every_command(REAL_AWS_API, None, no_credentials)
    failed = {
        name: completed.stderr
        for name, completed in runs.items()
        if unclean(completed)
        or "AWS_PROFILE" not in completed.stderr
        or "AWS_ACCESS_KEY_ID" not in completed.stderr
    }
    assert not failed, failed


def test_against_an_unreachable_local_api_every_command_says_so(no_credentials: dict[str, str]) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}"
    runs = run_every_command(nowhere, nowhere, no_credentials)
    failed = {
        name: completed.stderr
        for name, completed in runs.items()
        if unclean(completed)
        or not completed.stderr.startswith("error: ")
        or "make run" not in completed.stderr
    }
    assert not failed, failed
