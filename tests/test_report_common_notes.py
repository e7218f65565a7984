"""The note a test's column header shows once: the note of more than half its rows, against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.report.tablerows import common_notes


def _pandas(t: pd.DataFrame) -> dict[str, str]:
    """The formulation the report used before: a ``value_counts`` of each test's non-blank notes."""
    notes = t["note"].where(t["note"].astype(str) != "", None)
    out: dict[str, str] = {}
    for nm, sub in notes.groupby(t["test"].astype(str), sort=False):
        vc = sub.dropna().astype(str).value_counts()
        if len(vc) and vc.iloc[0] * 2 > len(sub):
            out[str(nm)] = str(vc.index[0])
    return out


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["csect_t", "grank_t", "placebo"]), st.sampled_from(["", "a", "b", "B=999", None])
        ),
        max_size=30,
    ),
    text_dtype=st.booleans(),
)
def test_common_notes_equal_the_pandas_counts(rows: list[tuple[str, str | None]], text_dtype: bool) -> None:
    t = pd.DataFrame(rows, columns=["test", "note"]).astype({"test": object, "note": object})
    if text_dtype:  # the tests table's text columns as pandas infers them (missing as NaN)
        t = t.astype({"test": "str", "note": "str"}) if len(t) else t
        t.loc[[r[1] is None for r in rows], "note"] = np.nan
    assert common_notes(t) == _pandas(t)


def test_a_note_of_exactly_half_the_rows_is_not_common() -> None:
    t = pd.DataFrame({"test": ["x"] * 4 + ["y"] * 3, "note": ["n", "n", "", "m", "k", "k", ""]})
    assert common_notes(t) == {"y": "k"}
