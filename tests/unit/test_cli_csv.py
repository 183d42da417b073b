"""The CLI's CSV guards spreadsheet formulas the way the API's export does: through one shared function."""

import csv
import io

import pytest

from orgvend import exports, spreadsheet
from orgvend_cli import render

FORMULAS = ['=HYPERLINK("https://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_in_any_cell_is_text_in_the_clis_csv(formula):
    text = render.csv_text(["accountName", "tags"], [[formula, {"team": "blue"}], ["plain", {"k": formula}]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "'" + formula
    assert rows[2][1] == f"k={formula}"  # not at the start of the cell: no formula
    assert rows[1][1] == "team=blue"


def test_a_dict_cell_that_starts_like_a_formula_is_guarded_too():
    assert render.csv_cell({"=cmd": "x"}) == "'=cmd=x"


def test_the_cli_and_the_export_share_one_guard():
    assert render.formula_guarded is spreadsheet.formula_guarded
    assert exports.formula_guarded is spreadsheet.formula_guarded
