"""Formula injection: a cell a spreadsheet would run is exported as text, everywhere."""

from datetime import date
from decimal import Decimal

import pytest

from pm.exports import neutralise

HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://x","y")']


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_starting_like_a_formula_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Plain", "a=b", "", 3, -3, Decimal("-1.5"), date(2027, 1, 1)])
def test_other_values_are_unchanged(value):
    assert neutralise(value) == value
