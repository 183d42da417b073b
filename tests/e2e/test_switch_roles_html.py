"""The html export in a real headless Chromium: a screenshot, the links and the search as rendered.

No Selenium or Playwright: Chromium's own ``--dump-dom`` gives the DOM after the
page's script ran, and the page reads its search from the URL fragment
(``#q=...``), so the filter is exercised by opening ``file://...#q=acme``.
The page and the screenshot are left in tests/output/ to look at.
"""

import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from orgvend.exports import ExportFormat, client_colour, display_name_for, export_accounts
from orgvend.models import AccountRecord, AccountStatus
from orgvend.switch_role import SWITCH_ROLE_ENDPOINT

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parents[1] / "output"
PAGE = OUTPUT / "switch-roles.html"
SCREENSHOT = OUTPUT / "switch-roles.png"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Console messages (a CSP violation, a script error) go to stderr.
    "--enable-logging=stderr",
    "--log-level=0",
)
ROLE = "OrganizationAccountAccessRole"
HOSTILE_CLIENT = '<script>document.title="pwned"</script>'
HOSTILE_ACCOUNT_NAME = "<img src=x onerror=\"document.title='pwned'\"> & co"
EPOCH = datetime(2024, 3, 1, tzinfo=UTC)
PROJECTS = {
    "acme": ["web", "api", "data", "mobile", "web"],  # two acme/web accounts
    "globex": ["platform", "billing", "ml"],
    "initech": ["tps-reports", "intranet", "printer-fleet", "payroll"],
    "umbrella": ["research", "labs", "cdn"],
    "hooli": ["search", "nucleus", "xyz", "box"],
    "stark": ["armor", "reactor", "jarvis", "expo"],
    "wayne": ["cave", "foundation", "tech", "enterprises", "gotham-ops"],
    "a-client-whose-name-is-long-enough-to-need-truncating": ["and-a-long-project-name"],
    HOSTILE_CLIENT: ["web"],
}


def sample_records() -> list[AccountRecord]:
    records = []
    number = 100
    for client, projects in PROJECTS.items():
        for project in projects:
            number += 1
            account_id = f"{number:012d}"
            records.append(
                AccountRecord(
                    account_id=account_id,
                    account_name=HOSTILE_ACCOUNT_NAME if client == HOSTILE_CLIENT else f"{client}-{project}",
                    email=f"aws+{number}@example.com",
                    client=client,
                    project=project,
                    role_name="Admin" if client == "initech" else ROLE,
                    status=AccountStatus.ACTIVE,
                    created_at=EPOCH + timedelta(days=number),
                    updated_at=EPOCH + timedelta(days=number),
                )
            )
    return records


RECORDS = sample_records()


class Dom(HTMLParser):
    """What the rendered DOM holds: rows (with their section), switch-role links, sections, texts."""

    def __init__(self, content: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.sections: list[dict[str, Any]] = []
        self.tags: dict[str, int] = {}
        self.by_id: dict[str, dict[str, Any]] = {}
        self.root: dict[str, str | None] = {}
        self.title = ""
        self._open: list[dict[str, Any]] = []
        self.feed(content)
        self.close()

    def _innermost(self, tag: str) -> dict[str, Any] | None:
        return next((element for element in reversed(self._open) if element["tag"] == tag), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        element: dict[str, Any] = {"tag": tag, "attrs": attributes, "text": []}
        if tag == "html":
            self.root = attributes
        elif tag == "section":
            self.sections.append(element)
        elif tag == "tr" and "data-search" in attributes:
            element["links"], element["section"] = [], self._innermost("section")
            self.rows.append(element)
        elif tag == "a" and "switch" in (attributes.get("class") or ""):
            self.links.append(element)
            row = self._innermost("tr")
            if row is not None and "links" in row:
                row["links"].append(element)
        if "id" in attributes:
            self.by_id[str(attributes["id"])] = element
        if tag not in ("meta", "input", "br", "img", "link", "hr"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index]["tag"] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"].append(data)
        if self._open and self._open[-1]["tag"] == "title":
            self.title += data


def parse_dom(content: str) -> Dom:
    return Dom(content)


def text_of(element: dict[str, Any]) -> str:
    return "".join(element["text"])


def query_of(href: str) -> dict[str, str]:
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == SWITCH_ROLE_ENDPOINT
    return {name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()}


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not (CHROMIUM.is_file() and shutil.which(str(CHROMIUM))):
        message = (
            f"{CHROMIUM} not found: install it with `apt-get install -y chromium` to run the browser tests"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # in CI a test that cannot run has failed (make test installs it as root)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def page() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    export = export_accounts(RECORDS, ExportFormat.HTML)
    assert export.count == len(RECORDS) >= 30
    PAGE.write_text(export.content, encoding="utf-8")
    return PAGE


@dataclass
class Run:
    stdout: str
    stderr: str

    def console(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture
def run_chromium(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    def run(*arguments: str) -> Run:
        profile = tmp_path_factory.mktemp("chromium-profile")
        finished = subprocess.run(
            [str(chromium), *FLAGS, f"--user-data-dir={profile}", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert finished.returncode == 0, finished.stderr[-3000:]
        return Run(finished.stdout, finished.stderr)

    yield run


def rendered(run_chromium: Any, url: str) -> tuple[Dom, Run]:
    run = run_chromium(
        "--run-all-compositor-stages-before-draw", "--virtual-time-budget=3000", "--dump-dom", url
    )
    assert run.stdout.strip(), run.stderr[-3000:]
    return parse_dom(run.stdout), run


def visible_accounts(dom: Dom) -> list[str]:
    """Accounts of the rows a person sees: neither the row nor its client's section is hidden."""
    accounts = []
    for row in dom.rows:
        if "hidden" in row["attrs"] or "hidden" in row["section"]["attrs"]:
            continue
        (link,) = row["links"]
        accounts.append(query_of(link["attrs"]["href"])["account"])
    return accounts


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    position, compressed = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            compressed += data[position + 8 : position + 8 + length]
        position += 12 + length
    return width, height, zlib.decompress(compressed)


# --------------------------------------------------------------------------- tests


def test_screenshot_of_the_page(run_chromium: Any, page: Path) -> None:
    SCREENSHOT.unlink(missing_ok=True)
    run = run_chromium(
        "--hide-scrollbars", f"--screenshot={SCREENSHOT}", "--window-size=1280,900", page.as_uri()
    )
    assert SCREENSHOT.is_file(), run.stderr[-3000:]
    assert SCREENSHOT.stat().st_size > 20_000
    width, height, pixels = png_pixels(SCREENSHOT)
    assert (width, height) == (1280, 900)
    assert len(set(pixels)) > 64  # not a blank page: text, colours, a header


def test_links_as_rendered_switch_to_each_account_and_role(run_chromium: Any, page: Path) -> None:
    dom, run = rendered(run_chromium, page.as_uri())

    assert dom.root.get("data-ready") == "true"  # the page's script ran under its own CSP
    assert [line for line in run.console() if "Content Security Policy" in line or "Uncaught" in line] == []
    links = {query_of(link["attrs"]["href"])["account"]: link for link in dom.links}
    assert len(dom.links) == len(links) == len(RECORDS)
    for record in RECORDS:
        link = links[record.account_id]
        assert query_of(link["attrs"]["href"]) == {
            "account": record.account_id,
            "roleName": record.role_name,
            "displayName": display_name_for(record.client, record.project),
            "color": client_colour(record.client),
        }
        assert text_of(link) == display_name_for(record.client, record.project)
        assert len(text_of(link)) <= 64
    assert sorted(visible_accounts(dom)) == sorted(record.account_id for record in RECORDS)
    assert text_of(dom.by_id["count"]) == f"{len(RECORDS)} accounts"
    assert "hidden" in dom.by_id["empty"]["attrs"]


def test_hostile_names_render_as_text(run_chromium: Any, page: Path) -> None:
    dom, _ = rendered(run_chromium, page.as_uri())
    assert dom.title == "AWS accounts: switch roles"  # no injected script changed it
    assert dom.tags.get("script") == 1 and "img" not in dom.tags
    hostile = next(row for row in dom.rows if HOSTILE_CLIENT.lower() in row["attrs"]["data-search"])
    assert HOSTILE_ACCOUNT_NAME in text_of(hostile)
    assert f"{HOSTILE_CLIENT}/web" in text_of(hostile)
    (link,) = hostile["links"]
    assert query_of(link["attrs"]["href"])["displayName"] == f"{HOSTILE_CLIENT}/web"


@pytest.mark.parametrize(
    ("search", "matches"),
    [
        ("acme", lambda record: record.client == "acme"),
        ("globex ml", lambda record: (record.client, record.project) == ("globex", "ml")),
        ("ADMIN", lambda record: record.role_name == "Admin"),  # case-insensitive, by role
        ("000000000105", lambda record: record.account_id == "000000000105"),
        ("<script>", lambda record: record.client == HOSTILE_CLIENT),
    ],
)
def test_search_from_the_url_fragment_hides_the_other_rows(
    run_chromium: Any, page: Path, search: str, matches: Any
) -> None:
    dom, _ = rendered(run_chromium, f"{page.as_uri()}#q={quote(search)}")
    expected = sorted(record.account_id for record in RECORDS if matches(record))
    assert expected
    assert sorted(visible_accounts(dom)) == expected
    assert text_of(dom.by_id["count"]) == f"{len(expected)} of {len(RECORDS)} accounts"
    shown_clients = {
        section["attrs"]["data-client"] for section in dom.sections if "hidden" not in section["attrs"]
    }
    assert shown_clients == {record.client for record in RECORDS if matches(record)}
    for section in dom.sections:
        if "hidden" not in section["attrs"]:
            client = section["attrs"]["data-client"]
            of_client = [record for record in RECORDS if record.client == client]
            shown = sum(1 for record in of_client if matches(record))
            noun = "account" if len(of_client) == 1 else "accounts"
            assert text_of(section).count(f"{shown} of {len(of_client)} {noun}") == 1
    # Every row of a shown section that does not match is hidden itself (not only by its section).
    for row in dom.rows:
        if "hidden" not in row["section"]["attrs"]:
            account = query_of(row["links"][0]["attrs"]["href"])["account"]
            assert ("hidden" in row["attrs"]) == (account not in expected)


def test_a_search_without_matches_says_so(run_chromium: Any, page: Path) -> None:
    dom, _ = rendered(run_chromium, f"{page.as_uri()}#q=no-such-account")
    assert visible_accounts(dom) == []
    assert all("hidden" in section["attrs"] for section in dom.sections)
    assert all("hidden" in row["attrs"] for row in dom.rows)
    assert "hidden" not in dom.by_id["empty"]["attrs"]
    assert text_of(dom.by_id["count"]) == f"0 of {len(RECORDS)} accounts"
