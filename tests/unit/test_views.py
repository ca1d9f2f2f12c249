"""What a person reads of a comparison (issue 32, item 3): the notebook view, repr, the terminal table."""

import re
from html.parser import HTMLParser

from modemean import compare
from modemean.cli import main
from modemean.comparisons.results.schema import format_column, format_count, wilson
from modemean.comparisons.results.table import columns
from modemean.comparisons.run.view import MAX_COLUMNS, WIDTH

SEED = 20261126


class _Page(HTMLParser):
    """The header cells and the verdict paragraph of the notebook's HTML."""

    def __init__(self):
        super().__init__()
        self.head, self.verdict, self._in = [], "", None

    def handle_starttag(self, tag, attrs):
        if tag == "th" and self._in == "thead" or tag == "thead":
            self._in = "thead" if tag == "thead" else "th"
        elif tag == "p" and ("class", "verdict") in attrs:
            self._in = "verdict"

    def handle_endtag(self, tag):
        if tag in ("thead", "p"):
            self._in = None
        elif tag == "th" and self._in == "th":
            self._in = "thead"

    def handle_data(self, data):
        if self._in == "th":
            self.head.append(data)
        elif self._in == "verdict":
            self.verdict += data


def test_notebook_view_and_repr(tmp_path):
    c = compare("eight_schools", solvers="map,em", seed=SEED, out=tmp_path)
    page = _Page()
    page.feed(c._repr_html_())
    assert len(page.head) <= MAX_COLUMNS and page.head[:3] == ["parameter", "map", "em"]
    assert "gap_kind" in page.head and "notes" in page.head
    assert page.verdict.startswith("No gap measured")  # no NUTS, no mean
    assert "eta[0]..eta[7]: 8 values" in c._repr_html_()  # the vector in one line
    assert "\n" not in repr(c) and repr(c).startswith("<Comparison eight_schools: map ok")


def test_terminal_table_fits_and_wide_has_every_column(tmp_path, capsys):
    assert main(["run", "eight_schools", "--solvers", "map,em", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines() if not line.startswith("wrote ")) <= WIDTH  # (a path)
    assert "eta[0]..eta[7]: 8 values" in text and not re.search(r"^eta\[3\]", text, re.M)
    assert main(["run", "eight_schools", "--solvers", "map,em", "--out", str(tmp_path), "--wide"]) == 0
    wide = capsys.readouterr().out
    header = next(line for line in wide.splitlines() if line.startswith("parameter"))
    assert header.split() == ["parameter", *columns(["map", "em"])]
    assert re.search(r"^eta\[3\]", wide, re.M)


def test_one_form_per_column_counts_and_wilson():
    assert format_column([0.0001864, 3.883e-05, -0.0001095, 4.62]) == ["0.000", "0.000", "0.000", "4.620"]
    assert format_column([0.0001864, 3.883e-05, None]) == ["1.864e-04", "3.883e-05", "—"]
    assert format_column([1.49e12, 0.052]) == ["1.490e+12", "5.200e-02"]
    assert format_count(0, 4000) == "0 of 4000 (< 0.03%)" and format_count(12, 4000) == "12 of 4000 (0.30%)"
    lo, hi = wilson(10, 10)
    assert hi == 1.0 and 0.65 < lo < 0.75  # never below the rate (a negative error bar crashed the study page)
