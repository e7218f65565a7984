"""Publication tables: CAAR by window for a grouping, with stars, t statistics, G and N.

The layout is the one of regression tables in papers (estout, etable): one
column per group, and per window three rows — the CAAR in percent with its
stars, the t statistic in parentheses, and ``G / N`` (independent clusters /
event×market pairs).

**Which test.** Every star and every t in these tables is the study's headline
test, ``cluster_t`` (:mod:`eventstudy.inference.headline`): the average of the
cluster mean CARs with the Ibragimov–Müller t over the clusters of dependent
pairs, t(G − 1). Tests that assume independent pairs
are never quoted here: the pairs of one event, and pairs whose windows overlap
in calendar time, are not independent observations. A group with fewer than
2 clusters has no such test; its cells say ``n/a``.

LaTeX is the text pandas' :meth:`~pandas.io.formats.style.Styler.to_latex`
writes for these tables (``booktabs`` rules, the row labels of a window shown
once), built directly without importing the styler (about 0.1 s of a default
run); Markdown comes from :meth:`pandas.DataFrame.to_markdown` (tabulate, pipe
format).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import InputError
from .inference.headline import HEADLINE_TEST
from .inference.runner import GROUPINGS
from .summary import stars

if TYPE_CHECKING:
    from .config import WindowLike
    from .results import StudyResult

__all__ = [
    "FILE_GROUPINGS",
    "caar_frame",
    "frame_latex",
    "frame_markdown",
    "latex_table",
    "markdown_table",
    "publication_table",
    "write_tables",
]

#: Groupings written to ``tables.tex`` and ``tables.md`` by :meth:`StudyResult.save`
#: (by event would be one column per event).
FILE_GROUPINGS: tuple[str, ...] = ("all", "direction", "market", "category")

#: Column titles of groups that have a name in words.
_GROUP_TITLES = {
    "all": {"all": "All pairs"},
    "direction": {"+1": "De-escalation (+1)", "-1": "Escalation (-1)", "0": "Unclear (0)"},
}
_ORDER = {"direction": ["+1", "-1", "0"]}
_STATS = ("CAAR (%)", "t", "G / N")
NA = "n/a"

_NOTE = (
    "CAAR in percent (average of the cluster mean CARs); t statistics in parentheses: {test}, "
    "the Ibragimov{dash}M{uml}ller t over the cluster means, t(G {minus} 1). "
    "G: independent clusters of dependent pairs (the markets of one event, and pairs whose windows "
    "overlap in calendar time); N: "
    "event{times}market pairs. {s1} p < 0.10, {s2} p < 0.05, {s3} p < 0.01 (two-sided). "
    "{na}: fewer than 2 clusters."
)


def by_grouping(by: str | None) -> str | None:
    """A grouping name checked against :data:`GROUPINGS` (None: every grouping)."""
    if by is not None and by not in GROUPINGS:
        raise InputError(f"by: '{by}' is not a grouping; valid: {', '.join(GROUPINGS)}")
    return by


def _by(by: str) -> str:
    by_grouping(by)
    return by


def select_rows(t: pd.DataFrame, by: str | None, window: str | None) -> pd.DataFrame:
    """Rows of a tidy table (``group_by``, ``window`` columns) of one grouping and one window."""
    if by is not None and len(t):
        t = t[t["group_by"] == by]
    if window is not None and len(t):
        t = t[t["window"] == window]
    return t


def caar_frame(headlines: pd.DataFrame, by: str, windows: Sequence[str]) -> pd.DataFrame:
    """Format rows of ``headlines.csv`` (one grouping) as a publication table.

    Parameters
    ----------
    headlines : DataFrame
        Columns of ``headlines.csv``: ``group_by, group, window, estimate,
        statistic, p_value, n_clusters, n_pairs`` at least.
    by : str
        The grouping to show (one of :data:`~eventstudy.inference.runner.GROUPINGS`).
    windows : sequence of str
        Window labels (``"-1:+1"``), in the order of the rows.

    Returns
    -------
    DataFrame of str
        Index (window, statistic) with the statistics ``CAAR (%)``, ``t`` and
        ``G / N``; one column per group.
    """
    h = headlines[(headlines["group_by"] == _by(by)) & headlines["window"].isin(list(windows))]
    groups = list(dict.fromkeys(h["group"].astype(str)))
    order = _ORDER.get(by)
    if order:
        groups = [g for g in order if g in groups] + [g for g in groups if g not in order]
    titles = _GROUP_TITLES.get(by, {})
    cells = {(w, s): {} for w in windows for s in _STATS}  # type: dict[tuple[str, str], dict[str, str]]
    for r in h.itertuples(index=False):
        g, w = str(r.group), str(r.window)
        ok = np.isfinite(r.statistic) and np.isfinite(r.p_value)
        cells[(w, "CAAR (%)")][g] = f"{100 * r.estimate:.2f}{stars(r.p_value) if ok else ''}"
        cells[(w, "t")][g] = f"({r.statistic:.2f})" if ok else NA
        cells[(w, "G / N")][g] = f"{int(r.n_clusters)} / {int(r.n_pairs)}"
    index = pd.MultiIndex.from_tuples(list(cells), names=["Window", ""])
    data = [[cells[k].get(g, "") for g in groups] for k in cells]
    frame = pd.DataFrame(data, index=index, columns=pd.Index([titles.get(g, g) for g in groups]))
    frame.columns.name = None
    return frame


def publication_table(
    res: StudyResult, by: str = "all", windows: Sequence[WindowLike] | None = None
) -> pd.DataFrame:
    """The CAAR table of ``res`` for one grouping (see :func:`caar_frame`).

    ``windows`` (each ``(a, b)``, ``"a:b"`` or ``"a:+b"``) default to the CAR windows.
    """
    labels = res.car_windows if windows is None else [res._window(w) for w in windows]
    return caar_frame(res.headlines(_by(by)), by, labels)


def _caption(res: StudyResult, by: str) -> str:
    what = "all event-market pairs" if by == "all" else f"by {by}"
    bench = f", benchmark {res.config.benchmark}" if res.config.benchmark else ""
    return f"Cumulative average abnormal returns, {what} ({res.config.model} model{bench})"


def frame_markdown(frame: pd.DataFrame, caption: str) -> str:
    """A :func:`caar_frame` as Markdown: the caption in bold, a pipe table, the note."""
    flat = frame.reset_index()
    flat["Window"] = flat["Window"].where(flat[""] == _STATS[0], "")
    align = ["left", "left"] + ["right"] * (flat.shape[1] - 2)
    body = flat.to_markdown(index=False, tablefmt="pipe", colalign=align)
    note = _NOTE.format(
        test=HEADLINE_TEST, dash="–", uml="ü", minus="−", times="×", s1=r"\*", s2=r"\*\*", s3=r"\*\*\*", na=NA
    )
    return f"**{caption}**\n\n{body}\n\n{note}\n"


def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#")):
        text = text.replace(a, b)
    return text.replace("^", r"\textasciicircum{}").replace("$", r"\$")


def _styler_escape(text: str) -> str:
    """pandas' LaTeX escape of the styler's labels (``format_index(escape="latex")``, pandas ≥ 2.0)."""
    return (
        text.replace("\\", "ab2§=§8yz")
        .replace("ab2§=§8yz ", "ab2§=§8yz\\space ")
        .replace("&", "\\&")
        .replace("%", "\\%")
        .replace("$", "\\$")
        .replace("#", "\\#")
        .replace("_", "\\_")
        .replace("{", "\\{")
        .replace("}", "\\}")
        .replace("~ ", "~\\space ")
        .replace("~", "\\textasciitilde ")
        .replace("^ ", "^\\space ")
        .replace("^", "\\textasciicircum ")
        .replace("ab2§=§8yz", "\\textbackslash ")
    )


def _tabular(cells: pd.DataFrame, caption: str, label: str, column_format: str) -> str:
    """The ``table`` float pandas' styler writes for ``cells`` (text, two index levels, names hidden).

    Same text as ``Styler.to_latex(hrules=True, multirow_align="naive", position="htbp",
    position_float="centering", …)`` with the labels escaped: the outer row label is shown only
    where a run of equal labels starts, the inner one on every row.
    """
    if not (caption and label and cells.shape[1] and cells.index.nlevels == 2 and cells.columns.nlevels == 1):
        return _styler_tabular(cells, caption, label, column_format)
    labels = [*cells.index.get_level_values(0), *cells.index.get_level_values(1), *cells.columns]
    if not all(isinstance(v, str) for v in [*labels, *cells.to_numpy().ravel()]):  # numbers: styler's format
        return _styler_tabular(cells, caption, label, column_format)
    lines = [
        "\\begin{table}[htbp]",
        "\\centering",
        f"\\caption{{{caption}}}",
        f"\\label{{{label}}}",
        f"\\begin{{tabular}}{{{column_format}}}",
        "\\toprule",
        " & ".join(["", "", *(_styler_escape(str(c)) for c in cells.columns)]) + " \\\\",
        "\\midrule",
    ]
    prev: object = None
    rows = cells.itertuples(index=False, name=None)
    for i, ((a, b), row) in enumerate(zip(cells.index, rows, strict=True)):
        head = [_styler_escape(str(a)) if i == 0 or a != prev else "", _styler_escape(str(b))]
        prev = a
        lines.append(" & ".join([*head, *map(str, row)]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def _styler_tabular(cells: pd.DataFrame, caption: str, label: str, column_format: str) -> str:
    """The ``table`` float written by pandas' styler itself (the reference of :func:`_tabular`)."""
    styler = cells.style.format_index(escape="latex", axis=0).format_index(escape="latex", axis=1)
    styler = styler.hide(axis="index", names=True)
    return styler.to_latex(
        hrules=True,
        multirow_align="naive",
        column_format=column_format,
        caption=caption,
        label=label,
        position="htbp",
        position_float="centering",
    )


def _latex_cell(v: str) -> str:
    """A cell of :func:`frame_latex`: escaped, a leading minus (after any parenthesis) in math mode."""
    return _MINUS.sub(r"\1$-$", _latex_escape(v))


_MINUS = re.compile(r"^(\(?)-")


def frame_latex(frame: pd.DataFrame, caption: str, label: str) -> str:
    """A :func:`caar_frame` as a LaTeX ``table`` float (booktabs rules), the note below the tabular."""
    escaped = np.frompyfunc(_latex_cell, 1, 1)(frame.to_numpy(dtype=object))  # not a map per column
    cells = pd.DataFrame(escaped, index=frame.index, columns=frame.columns)
    tex = _tabular(cells, _latex_escape(caption), label, "ll" + "r" * frame.shape[1])
    note = _NOTE.format(
        test=_latex_escape(HEADLINE_TEST),
        dash="--",
        uml=r"\"u",
        minus="$-$",
        times=r"$\times$",
        s1="*",
        s2="**",
        s3="***",
        na=NA,
    ).replace("<", "$<$")
    tex = tex.replace("\\toprule\n &  & ", "\\toprule\nWindow &  & ", 1)
    return tex.replace("\\end{table}", f"\\par\\smallskip\\footnotesize {note}\n\\end{{table}}")


def markdown_table(res: StudyResult, by: str = "all", windows: Sequence[WindowLike] | None = None) -> str:
    """The CAAR table of ``res`` for one grouping as Markdown (see :func:`frame_markdown`)."""
    return frame_markdown(publication_table(res, by, windows), _caption(res, by))


def latex_table(
    res: StudyResult,
    by: str = "all",
    windows: Sequence[WindowLike] | None = None,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """The CAAR table of ``res`` for one grouping as LaTeX (see :func:`frame_latex`; needs booktabs)."""
    return frame_latex(
        publication_table(res, by, windows), caption or _caption(res, by), label or f"tab:caar-{by}"
    )


def write_tables(res: StudyResult, folder: Path) -> None:
    """Write ``tables.tex`` and ``tables.md`` (:data:`FILE_GROUPINGS`) into ``folder``."""
    head = (
        f"% Publication tables of the study '{res.config.study_name}' (eventstudy). "
        "Needs \\usepackage{booktabs}.\n"
    )
    present = set(res.headlines()["group_by"]) if len(res.headline_table) else set()
    bys = [b for b in FILE_GROUPINGS if b in present]
    if not bys:
        why = "no headline test was computed (no CAR window)"
        (folder / "tables.tex").write_text(head + f"% {why}\n", encoding="utf-8")
        (folder / "tables.md").write_text(f"No publication table: {why}.\n", encoding="utf-8")
        return
    frames = {b: publication_table(res, b) for b in bys}  # each once, for both files
    tex = "\n".join(frame_latex(frames[b], _caption(res, b), f"tab:caar-{b}") for b in bys)
    md = "\n".join(frame_markdown(frames[b], _caption(res, b)) for b in bys)
    (folder / "tables.tex").write_text(head + "\n" + tex, encoding="utf-8")
    (folder / "tables.md").write_text(f"# Study '{res.config.study_name}'\n\n" + md, encoding="utf-8")
