"""Van Westendorp's intersections against values computed by hand."""

import pytest

from metrics.pricing import Answer, analyse, crossing, curves

# Four respondents ten apart: the curves are straight lines between surveyed prices.
ANSWERS = [
    Answer(10, 20, 30, 40),
    Answer(20, 30, 40, 50),
    Answer(30, 40, 50, 60),
    Answer(40, 50, 60, 70),
]


def test_the_four_curves_at_each_surveyed_price():
    c = curves(ANSWERS)
    assert c.prices == [10, 20, 30, 40, 50, 60, 70]
    assert c.too_cheap == [1, 0.75, 0.5, 0.25, 0, 0, 0]
    assert c.not_cheap == [0, 0, 0.25, 0.5, 0.75, 1, 1]
    assert c.not_expensive == [1, 1, 0.75, 0.5, 0.25, 0, 0]
    assert c.too_expensive == [0, 0, 0, 0.25, 0.5, 0.75, 1]


def test_the_intersections_computed_by_hand():
    # Too cheap meets not cheap between 30 (gap 0.25) and 40 (gap −0.25): 35. Too expensive meets
    # not expensive between 40 and 50: 45. Too cheap meets too expensive at 40 exactly, and not
    # cheap meets not expensive at 40.
    result = analyse([*ANSWERS, Answer(50, 40, 30, 20)])  # the last one is inconsistent
    assert result.respondents == 4 and result.excluded == 1
    assert result.marginal_cheapness == pytest.approx(35)
    assert result.marginal_expensiveness == pytest.approx(45)
    assert result.acceptable_range == (pytest.approx(35), pytest.approx(45))
    assert result.optimal == pytest.approx(40)
    assert result.indifference == pytest.approx(40)


def test_curves_that_never_meet_give_no_point():
    assert crossing([1, 2, 3], [0.9, 0.8, 0.7], [0.1, 0.2, 0.3]) is None
    assert crossing([1, 2], [0.1, 0.0], [0.5, 0.6]) is None  # already below at the first price


def test_no_consistent_answer_is_refused_with_the_rule():
    with pytest.raises(ValueError, match="too cheap ≤ cheap"):
        analyse([Answer(5, 4, 3, 2)])
