"""Tables that become cards on phones, without a script.

A list's table is written once, as a table; wrapped in `{% filter cards %}…{% endfilter %}` it
gets the class `cards` and every body cell a `data-label` with its column's heading (the last
row of the table's head), so that the stylesheet can show each row, at 600 px and less, as a
card of labelled fields, the first column as its title. A cell that spans columns (an empty
state) or already carries its own `data-label` is left as it is; a column without a heading
(the actions) gets no label."""

from __future__ import annotations

import html
import re

from markupsafe import Markup

_TAG = re.compile(r"<(/?)(table|thead|tbody|tfoot|tr|th|td)\b([^>]*)>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]+>")
_HIDDEN = re.compile(r"<svg\b.*?</svg>", re.IGNORECASE | re.DOTALL)
_COLSPAN = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""", re.IGNORECASE)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_ANY_TAG.sub(" ", _HIDDEN.sub("", fragment))).split())


def _span(attributes: str) -> int:
    found = _COLSPAN.search(attributes)
    return max(1, int(found.group(1))) if found else 1


def _headings(source: str) -> list[str]:
    """The labels of the columns: the last row of the first <thead>, by column."""
    head = re.search(r"<thead\b.*?</thead>", source, re.IGNORECASE | re.DOTALL)
    if head is None:
        return []
    rows = re.findall(r"<tr\b.*?</tr>", head.group(0), re.IGNORECASE | re.DOTALL)
    if not rows:
        return []
    labels: list[str] = []
    for attributes, inner in re.findall(r"<th\b([^>]*)>(.*?)</th>", rows[-1],
                                        re.IGNORECASE | re.DOTALL):
        labels.extend([_text(inner)] + [""] * (_span(attributes) - 1))
    return labels


def label_cells(source: str) -> Markup:
    """The table(s) in `source` (HTML already escaped by the template) with the class `cards`
    and a `data-label` on each body cell."""
    source = str(source)
    labels = _headings(source)
    out: list[str] = []
    position = 0
    column = 0
    in_head = False
    for match in _TAG.finditer(source):
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
        out.append(source[position:match.start()])
        position = match.end()
        tag = match.group(0)
        if not closing and name == "table":
            if re.search(r"""\bclass\s*=\s*["']""", attributes, re.IGNORECASE):
                tag = re.sub(r"""(\bclass\s*=\s*["'])""", r"\1cards ", tag, count=1,
                             flags=re.IGNORECASE)
            else:
                tag = tag[:-1] + ' class="cards">'
        elif name == "thead":
            in_head = not closing
        elif not closing and name == "tr":
            column = 0
        elif not closing and name in ("td", "th") and not in_head:
            span = _span(attributes)
            label = labels[column] if column < len(labels) else ""
            if span == 1 and label and "data-label" not in attributes:
                tag = f'{tag[:-1]} data-label="{html.escape(label, quote=True)}">'
            column += span
        out.append(tag)
    out.append(source[position:])
    # the template's own output, escaped already; the labels escaped here
    return Markup("".join(out))  # noqa: S704
