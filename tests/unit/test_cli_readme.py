"""`orgvend --help` and the README name the same commands and say the same about each."""

import argparse
import re
from pathlib import Path

from orgvend_cli import main as cli

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE_HEADER = "| Command | What it does |"
ROW = re.compile(r"^\| `(?P<command>[a-z-]+)` \| (?P<text>.+?) \|$")


def readme_commands() -> list[tuple[str, str]]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADER) + 2  # past the header and its |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        found = ROW.match(line)
        assert found, f"not a command row of the README's command table: {line!r}"
        rows.append((found["command"], found["text"]))
    return rows


def help_commands() -> list[tuple[str, str]]:
    [subparsers] = [
        action for action in cli.build_parser()._actions if isinstance(action, argparse._SubParsersAction)
    ]
    return [(choice.dest, str(choice.help)) for choice in subparsers._choices_actions]


def test_the_readme_command_table_is_orgvend_help() -> None:
    assert readme_commands() == help_commands(), (
        "the README's command table (| Command | What it does |) differs from `orgvend --help`: "
        "update one to match the other"
    )


def test_the_readme_shows_no_deprecated_option_but_where_it_says_so() -> None:
    text = README.read_text(encoding="utf-8")
    uses = [line for line in text.splitlines() if "--as " in line]
    assert all("still works" in line for line in uses), uses
