"""Laying initiatives out on the month grid."""

from datetime import date

from roadmap.timeline import MAX_MONTHS, TimelineItem, build

TODAY = date(2026, 11, 26)


def _item(pk, start, end, theme=None):
    return TimelineItem(
        pk=pk,
        title=f"Item {pk}",
        start=start,
        end=end,
        timeframe="",
        status="planned",
        status_label="Planned",
        horizon_label="Next",
        theme_key=theme,
        theme_name=theme or "",
    )


def test_the_grid_starts_a_quarter_back_and_spans_at_least_eight_quarters():
    timeline = build([_item(1, date(2027, 1, 1), date(2027, 6, 30))], [], TODAY)
    assert timeline.first == date(2026, 7, 1)
    assert timeline.months == 24
    bar = timeline.lanes[0].bars[0]
    assert (bar.col, bar.span) == (2 + 6, 6)  # Jan 2027 is the 7th month; six months long
    assert timeline.today_col == 2 + 4 and timeline.today_tenth == 8  # late November


def test_long_plans_extend_the_grid_up_to_four_years_and_are_clipped_beyond():
    items = [
        _item(1, date(2025, 1, 1), date(2025, 3, 31)),  # long before: clipped to a year back
        _item(2, date(2024, 6, 1), date(2032, 12, 31)),  # starts before, runs past
    ]
    timeline = build(items, [], TODAY)
    assert timeline.first == date(2025, 10, 1)  # at most four quarters before this one
    assert timeline.months == MAX_MONTHS
    early, long = timeline.lanes[0].bars
    assert early.span == 0  # outside the period shown
    assert long.clipped_start and long.clipped_end
    assert long.col == 2 and long.col + long.span - 1 == MAX_MONTHS + 1


def test_lanes_follow_themes_with_the_themeless_last_and_markers_land_in_their_month():
    items = [
        _item(1, None, None),
        _item(2, date(2027, 1, 1), date(2027, 3, 31), theme="Growth"),
    ]
    timeline = build(items, [("R1", date(2027, 2, 15), False, "")], TODAY)
    assert [lane.name for lane in timeline.lanes] == ["Growth", "No theme"]
    assert not timeline.lanes[1].bars[0].scheduled
    marker = timeline.markers[0]
    assert (marker.col, marker.tenth) == (2 + 7, 5)
