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
