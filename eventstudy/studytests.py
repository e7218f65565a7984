"""The study's chosen tests over its windows and groupings, and the placebo distributions behind one.

:func:`raw_tests` runs every chosen test (:mod:`eventstudy.inference`) on
the test inputs of the CAR windows and of the single-day windows, by
grouping, window after window (:data:`TEST_THREADS`); :func:`tests_table`
adds the notes and adjusted p-values of ``tests.csv``
(:func:`~eventstudy.studytables.finished_tests`). In a ``detail="pairs"`` run
the tests that read estimation-window data are accumulated chunk by chunk
(:mod:`eventstudy.streamtests`). :func:`placebo_table` gives the placebo
CAAR distributions behind the ``placebo`` test (``placebo.csv``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import format_window
from .inference import TestInput
from .inference.runner import run_tests
from .studytables import finished_tests

if TYPE_CHECKING:
    from .assembly import StudyParts
    from .study import EventStudy

__all__ = ["TEST_THREADS", "placebo_table", "raw_tests", "tests_table"]

#: Threads running the tests of different windows at once (results do not
#: depend on it). One: a window's tests are many small array operations that
#: mostly hold the GIL, and on two cores a second thread made every study
#: measured slower or no faster (4 to 20,000 pairs, ragged or not; bench/README.md).
TEST_THREADS = 1


def tests_table(study: EventStudy, parts: StudyParts) -> pd.DataFrame:
    """The tests of every window and grouping (``tests.csv`` before the added columns)."""
    return finished_tests([raw_tests(study, parts)], len(parts.out.keep))


def raw_tests(study: EventStudy, parts: StudyParts) -> pd.DataFrame:
    """:func:`tests_table` before its notes and adjusted p-values (:func:`finished_tests`)."""
    threads, specs = TEST_THREADS, study.test_specs
    car_in, labels = parts.car_inputs, parts.labels
    if not specs and car_in:
        # no test: no rows, whatever the windows and groups; one window and one grouping of
        # each set give the same empty table (and its column types) without the day windows
        first, inp = next(iter(car_in.items()))
        rest = [format_window(w) for w in parts.windows[parts.n_car :]]
        car_in, labels = {first: inp}, dict(list(labels.items())[:1])
        day_in = {rest[0]: inp} if rest else {}
        day_labels = dict(list(parts.day_labels.items())[:1])
    else:
        day_in, day_labels = parts.day_inputs, parts.day_labels
    if parts.out.detail != "full" and any(s.uses_estimation for s in specs):
        from .streamtests import streamed_specs  # estimation tests chunk by chunk

        sets = [(car_in, labels), (day_in, day_labels)]
        specs = streamed_specs(study, parts.panel, parts.out.keep, sets, specs, *study._stream)
    # the single days first: their table is small, so the CAR windows' table (one row per
    # market and test at universe scale) is not held through the single days' tests
    days = run_tests(day_in, day_labels, specs, threads=threads)
    tests = pd.concat([run_tests(car_in, labels, specs, threads=threads), days], ignore_index=True)
    del days
    return tests


def placebo_table(
    study: EventStudy, inputs: dict[str, TestInput], labels: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Placebo CAAR distributions (all pairs and per market) behind the ``placebo`` test.

    Group means of every pair's placebo CARs, position by position, as one
    matrix product per window (no loop over groups). One frame from whole
    columns: the text columns are taken by position from their few distinct
    values (:func:`~eventstudy.cartable.text_column`), not one Python string
    per row.
    """
    from .cartable import text_column
    from .inference.grouped import Groups
    from .inference.placebo import placebo_caar_groups

    columns = ["group_by", "group", "window", "position", "caar"]
    if "placebo" not in {s.name for s in study.test_specs}:
        return pd.DataFrame(columns=columns)
    groupings, windows = ("all", "market"), list(inputs)
    names: list[np.ndarray] = []  # each block's group names, laid end to end
    caars: list[np.ndarray] = []
    blocks: list[tuple[int, int, int, int]] = []  # grouping, window, groups, positions of each block
    for b, gb in enumerate(groupings):
        grouping = Groups.from_labels(labels[gb])
        for w, inp in enumerate(inputs.values()):
            caar = placebo_caar_groups(inp, grouping, np.isfinite(inp.car))
            names.append(np.asarray(grouping.names, dtype=object))
            caars.append(caar.ravel())
            blocks.append((b, w, *caar.shape))
    if not blocks:
        return pd.DataFrame(columns=columns)
    rows = np.array([g * k for _, _, g, k in blocks], dtype=np.int64)
    first = np.cumsum([0, *(len(n) for n in names[:-1])])  # each block's first name
    group = np.concatenate(
        [f + np.repeat(np.arange(g), k) for f, (_, _, g, k) in zip(first.tolist(), blocks, strict=True)]
    )
    cols = {
        "group_by": text_column(np.array(groupings, dtype=object), np.repeat([b[0] for b in blocks], rows)),
        "group": text_column(np.concatenate(names), group),
        "window": text_column(np.array(windows, dtype=object), np.repeat([b[1] for b in blocks], rows)),
        "position": np.concatenate([np.tile(np.arange(k), g) for _, _, g, k in blocks]),
        "caar": np.concatenate(caars),
    }
    return pd.DataFrame(cols, copy=False)
