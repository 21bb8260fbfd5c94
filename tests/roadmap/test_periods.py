from datetime import date

import pytest

from roadmap.choices import Precision
from roadmap.periods import Period, span_label


@pytest.mark.parametrize(
    ("text", "first", "last", "label"),
    [
        ("2027 Q1", date(2027, 1, 1), date(2027, 3, 31), "2027 Q1"),
        ("q3 2027", date(2027, 7, 1), date(2027, 9, 30), "2027 Q3"),
        ("2027-Q4", date(2027, 10, 1), date(2027, 12, 31), "2027 Q4"),
        ("2027-02", date(2027, 2, 1), date(2027, 2, 28), "Feb 2027"),
        ("2028-2", date(2028, 2, 1), date(2028, 2, 29), "Feb 2028"),
        ("March 2027", date(2027, 3, 1), date(2027, 3, 31), "Mar 2027"),
        ("sep 2027", date(2027, 9, 1), date(2027, 9, 30), "Sep 2027"),
    ],
)
def test_periods_parse_months_and_quarters(text, first, last, label):
    period = Period.parse(text)
    assert (period.first_day, period.last_day, period.label) == (first, last, label)


@pytest.mark.parametrize("text", ["2027 Q5", "2027-13", "next spring", "Q1", "1999 Q1", ""])
def test_nonsense_periods_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match="."):
        Period.parse(text)


def test_span_labels_collapse_a_single_period():
    q = Precision.QUARTER
    assert span_label(date(2027, 1, 1), q, date(2027, 3, 31), q) == "2027 Q1"
    assert span_label(date(2027, 1, 1), q, date(2027, 5, 31), Precision.MONTH) == (
        "2027 Q1 – May 2027"
    )
    assert span_label(None, q, None, q) == ""
