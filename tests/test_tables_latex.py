"""The publication tables' LaTeX, written directly, is the text of pandas' styler (the reference)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.tables import _styler_tabular, _tabular, caar_frame, frame_latex

#: Text with every character the styler escapes, and the spaces that change its escapes.
_TEXT = st.text(alphabet=st.sampled_from(list("ab0 -+:()%&$#_{}~^\\*/é")), max_size=8)


@st.composite
def _cells(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(1, 9))
    n_cols = draw(st.integers(0, 4))
    # few distinct labels, so that equal labels follow each other (the styler shows a run's first)
    outer = st.sampled_from(["0:0", "-1:+1", "a_b", "x ^ y"])
    inner = st.sampled_from(["CAAR (%)", "t", "G / N", "~ z"])
    level0 = draw(st.lists(outer, min_size=n_rows, max_size=n_rows))
    level1 = draw(st.lists(inner, min_size=n_rows, max_size=n_rows))
    columns = draw(st.lists(_TEXT, min_size=n_cols, max_size=n_cols))
    data = [draw(st.lists(_TEXT, min_size=n_cols, max_size=n_cols)) for _ in range(n_rows)]
    index = pd.MultiIndex.from_arrays([level0, level1], names=["Window", ""])
    return pd.DataFrame(data, index=index, columns=pd.Index(columns, dtype=object))


@settings(max_examples=60, deadline=None)
@given(cells=_cells(), caption=_TEXT, label=_TEXT)
def test_tabular_is_the_styler_text(cells: pd.DataFrame, caption: str, label: str) -> None:
    fmt = "ll" + "r" * cells.shape[1]
    assert _tabular(cells, caption, label, fmt) == _styler_tabular(cells, caption, label, fmt)


def test_publication_table_latex_equals_the_styler_route() -> None:
    keys = [("^HSI", "0:0"), ("^HSI", "-1:+1"), ("A_B & C", "0:0"), ("A_B & C", "-1:+1")]
    rows = [
        ("market", g, w, 0.0123 * (i - 2), 2.7 - i, 0.004 * (i + 1), 12 + i, 40 + i)
        for i, (g, w) in enumerate(keys)
    ]
    cols = ["group_by", "group", "window", "estimate", "statistic", "p_value", "n_clusters", "n_pairs"]
    frame = caar_frame(pd.DataFrame(rows, columns=cols), "market", ["0:0", "-1:+1"])
    tex = frame_latex(frame, "Caption with 50% & more", "tab:x")
    assert "\\textasciicircum HSI & A\\_B \\& C \\\\" in tex
    assert tex.count("\\\\\n") == 7  # the header and three rows per window
    cells = frame.map(lambda v: v.replace("-", "$-$", 1) if v.startswith(("-", "(-")) else v)
    ref = _styler_tabular(cells, "Caption with 50\\% \\& more", "tab:x", "llrr")
    assert _tabular(cells, "Caption with 50\\% \\& more", "tab:x", "llrr") == ref


def test_numbers_in_a_frame_take_the_stylers_route() -> None:
    """The styler formats numbers (precision, thousands): such frames are written by it."""
    index = pd.MultiIndex.from_tuples([("0:0", "CAAR (%)"), (1.5, "t")], names=["Window", ""])
    cells = pd.DataFrame([["a", 1234.5678], ["b", 2]], index=index, columns=["x", 3])
    assert _tabular(cells, "c", "l", "llrr") == _styler_tabular(cells, "c", "l", "llrr")
    assert "1234.567800" in _tabular(cells, "c", "l", "llrr")
