"""The tests table's notes of the tests that assume independent pairs: against a row-by-row loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference import CLUSTER_TESTS, TESTS
from eventstudy.inference.headline import INDEPENDENCE_NOTES, mark_independence


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(sorted(TESTS)), st.sampled_from(["", "B=999 draws", "r̄=0.0100", None])),
        max_size=40,
    )
)
def test_notes_match_a_loop(rows):
    tests = pd.DataFrame(
        {
            "group": [f"g{k}" for k in range(len(rows))],
            "test": [t for t, _ in rows],
            "note": np.array([n for _, n in rows], dtype=object),
        },
        index=np.arange(len(rows)) * 3 + 1,  # not a default index
    )
    got = mark_independence(tests)
    want = []
    for test, note in rows:
        if test in CLUSTER_TESTS:
            want.append(note)
        else:
            what = INDEPENDENCE_NOTES.get(test, "assumes independent pairs")
            want.append(f"{what}; {note}" if note else what)

    def plain(notes: pd.Series) -> list[str | None]:
        return [None if pd.isna(v) else v for v in notes]

    assert plain(got["note"]) == want
    assert got["note"].dtype == tests["note"].dtype  # the column keeps its dtype
    pd.testing.assert_frame_equal(got.drop(columns="note"), tests.drop(columns="note"))
    assert plain(tests["note"]) == [n for _, n in rows]  # the input is left as it was


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(sorted(TESTS)), st.sampled_from(["", "B=999 draws", "p̂=0.5", None])),
        min_size=1,
        max_size=30,
    )
)
def test_text_notes_marked_per_distinct_note_equal_the_column_form(rows):
    """A text note column (marked once per distinct test and note) gives the notes of an object column."""
    tests = pd.DataFrame({"test": [t for t, _ in rows], "note": pd.array([n for _, n in rows], dtype="str")})
    assert isinstance(tests["note"].dtype, pd.StringDtype)
    text = mark_independence(tests)["note"]
    objects = mark_independence(tests.astype({"note": object}))["note"]
    assert [None if pd.isna(v) else v for v in text] == [None if pd.isna(v) else v for v in objects]
    assert text.dtype == tests["note"].dtype
