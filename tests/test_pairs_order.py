"""The order of a ``detail="pairs"`` run's memory steps (universe scale).

The engine caches (prefix sums) are released before the tables are built when
no estimation test runs the engine again, and only after the chunk-by-chunk
tests when one does. A ``"full"`` run does neither. The tables are the same
in every case (see ``test_streamtests.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

import eventstudy.assembly as assembly_mod
import eventstudy.streamtests as streamtests
import eventstudy.study as study_mod
import eventstudy.studyresult as studyresult_mod
from eventstudy import EventStudy


def _logged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    log: list[str] = []

    def spy(owner: Any, name: str) -> None:
        func = getattr(owner, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            log.append(name)
            return func(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapped)

    spy(study_mod, "compute_chunks")
    spy(studyresult_mod, "release_engine_caches")
    spy(assembly_mod, "pair_clusters")
    spy(streamtests, "iter_chunks")
    return log


@pytest.mark.parametrize(
    ("detail", "tests", "want"),
    [
        ("pairs", [], ["compute_chunks", "release_engine_caches", "pair_clusters"]),
        ("pairs", ["cluster_t"], ["compute_chunks", "release_engine_caches", "pair_clusters"]),
        (
            "pairs",
            ["cda_t"],
            ["compute_chunks", "pair_clusters", "iter_chunks", "release_engine_caches"],
        ),
        ("full", ["cluster_t"], ["compute_chunks", "pair_clusters"]),
    ],
)
def test_pairs_run_frees_memory_before_the_tables(
    synthetic_panel: Any, monkeypatch: pytest.MonkeyPatch, detail: str, tests: list[str], want: list[str]
) -> None:
    syn = synthetic_panel(seed=4, n_days=400, n_events=6)
    log = _logged(monkeypatch)
    study = EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", tests=tests, draws=19)
    study.run(detail=detail)  # type: ignore[arg-type]
    firsts = list(dict.fromkeys(log))  # each step's first call, in order
    assert firsts == want
