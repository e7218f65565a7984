"""numpy's huge-page advice is off while a study runs and restored after (``eventstudy.pages``)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import eventstudy.study as study_module
from eventstudy import EventStudy, pages


def _advice() -> bool:
    """numpy's current huge-page advice, read without changing it."""
    setter = np._core.multiarray._set_madvise_hugepage
    before = bool(setter(True))
    setter(before)
    return before


@pytest.fixture
def restore_advice():  # type: ignore[no-untyped-def]
    before = _advice()
    yield
    np._core.multiarray._set_madvise_hugepage(before)


@pytest.mark.parametrize("start", [True, False])
def test_run_turns_the_advice_off_and_restores_it(  # type: ignore[no-untyped-def]
    synthetic_panel, monkeypatch, restore_advice, start
) -> None:
    monkeypatch.delenv(pages.ENV_VAR, raising=False)
    np._core.multiarray._set_madvise_hugepage(start)
    seen: list[bool] = []
    real = study_module.assemble_result

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        seen.append(_advice())
        return real(*a, **k)

    monkeypatch.setattr(study_module, "assemble_result", spy)
    syn = synthetic_panel(seed=3, n_days=400, n_events=4)
    res = EventStudy(syn.events, syn.prices, tests=["csect_t"]).run()
    assert seen == [False] and _advice() is start
    # the numbers do not depend on it: the same study with the user's advice kept on
    monkeypatch.setenv(pages.ENV_VAR, "1")
    np._core.multiarray._set_madvise_hugepage(True)
    again = EventStudy(syn.events, syn.prices, tests=["csect_t"]).run()
    assert seen == [False, True] and _advice() is True
    pd.testing.assert_frame_equal(res.car(), again.car(), check_exact=True)
    pd.testing.assert_frame_equal(res.tests(), again.tests(), check_exact=True)


def test_a_failing_run_restores_the_advice(synthetic_panel, monkeypatch, restore_advice) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(pages.ENV_VAR, raising=False)
    np._core.multiarray._set_madvise_hugepage(True)

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        assert _advice() is False
        raise KeyboardInterrupt

    monkeypatch.setattr(study_module, "assemble_result", boom)
    syn = synthetic_panel(seed=4, n_days=400, n_events=3)
    with pytest.raises(KeyboardInterrupt):
        EventStudy(syn.events, syn.prices, tests=[]).run()
    assert _advice() is True


def test_overlapping_blocks_restore_once_the_last_leaves(monkeypatch, restore_advice) -> None:  # type: ignore[no-untyped-def]
    """Studies run in threads share the switch: on until every block has left."""
    monkeypatch.delenv(pages.ENV_VAR, raising=False)
    np._core.multiarray._set_madvise_hugepage(True)
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with pages.small_pages():
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(10)
    with pages.small_pages():
        assert _advice() is False
    assert _advice() is False  # the other block is still inside
    leave.set()
    t.join(10)
    assert _advice() is True
