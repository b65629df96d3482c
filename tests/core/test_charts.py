"""Server-drawn SVG charts: well-formed, accessible, escaped, proportional."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own output

from coopreg.core.charts import Segment, column_chart, horizontal_bars, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own markup


def test_horizontal_bars_are_proportional_and_labelled():
    svg = _parse(horizontal_bars("Members by sector", [("Agriculture", 200), ("Fishing", 50)]))
    assert svg.get("role") == "img" and svg.get("aria-label") == "Members by sector"
    rects = svg.findall(f"{SVG}rect")
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] == 4 * widths[1]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Agriculture" in texts and "200" in texts and "50" in texts


def test_labels_from_users_are_escaped():
    markup = str(horizontal_bars("<script>", [("<b>x</b>", 1)]))
    assert "<script>" not in markup and "<b>" not in markup
    _parse(markup)


def test_stacked_bars_show_shares():
    svg = _parse(stacked_bars("Coverage", [
        ("Medical care", [Segment("Covered", 30), Segment("Not covered", 70)]),
        ("Old age", [Segment("Covered", 0), Segment("Not covered", 10)]),
    ]))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "30%" in texts and "70%" in texts and "100%" in texts
    assert "Covered" in texts and "Not covered" in texts


def test_column_chart_with_empty_values():
    svg = _parse(column_chart("Collection rate", [("Jan", [0]), ("Feb", [50])], ["rate"],
                              percent_axis=True))
    heights = [float(r.get("height")) for r in svg.findall(f"{SVG}rect")[:2]]
    assert heights[0] == 0 and heights[1] > 0


def _texts(svg) -> list[str]:
    return [t.text for t in svg.iter(f"{SVG}text")]


def test_count_axes_have_whole_numbers_and_values_sit_on_the_bars():
    svg = _parse(column_chart("Members", [("2024", [150]), ("2025", [301])], ["members"]))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "100", "200", "300", "400"]
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-value"]
    assert values == ["150", "301"]
    small = _parse(column_chart("Few", [("a", [1]), ("b", [3])], ["members"]))
    ticks = [t.text for t in small.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "1", "2", "3", "4"]  # never 0.75, 1.5 members


def test_percent_axis_values_and_description():
    svg = _parse(column_chart("Collection rate", [("nov 2026", [87.5])], ["paid"],
                              percent_axis=True))
    assert "87.5%" in _texts(svg) and "100%" in _texts(svg)
    desc = svg.find(f"{SVG}desc")
    assert desc is not None and desc.text == "nov 2026: paid 87.5%"
    assert svg.get("aria-describedby") == desc.get("id")


def test_small_funnel_segments_are_still_labelled():
    svg = _parse(stacked_bars("Registrations", [("CCSS-1", [
        Segment("Pending", 1), Segment("Ready", 2), Segment("Registered", 300)])],
        percent=False))
    assert "Pending 1 · Ready 2 · Registered 300" in _texts(svg)
    assert svg.find(f"{SVG}title").text == "Registrations"


def test_months_are_named_in_the_page_language(app):
    from datetime import date

    from flask_babel import force_locale

    from coopreg.core.templating import show_month

    with app.test_request_context():
        for language, expected in (("en", "Nov 2026"), ("es", "nov 2026"), ("fr", "nov. 2026"),
                                   ("pt", "nov. 2026")):
            with force_locale(language):
                assert show_month(date(2026, 11, 1)) == expected
