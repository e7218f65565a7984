"""Optional static PNG export of the report's charts (kaleido + a system Chromium).

kaleido is not a dependency of the package: :func:`export_png` does nothing
unless it is installed. kaleido 1.x drives a Chrome/Chromium it does not
bundle; when ``BROWSER_PATH`` is unset and Debian's ``/usr/bin/chromium``
exists, it is pointed there for the duration of the export.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import plotly.io as pio

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["SYSTEM_CHROMIUM", "export_png", "png_unavailable_reason"]

#: Browser used by kaleido when ``BROWSER_PATH`` is not set.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")


def png_unavailable_reason() -> str | None:
    """Why PNG export cannot run here (``None`` when it can be attempted)."""
    if importlib.util.find_spec("kaleido") is None:
        return "kaleido is not installed (pip install kaleido)"
    if not os.environ.get("BROWSER_PATH") and not SYSTEM_CHROMIUM.exists():
        return f"no browser for kaleido: set BROWSER_PATH or install chromium ({SYSTEM_CHROMIUM})"
    return None


@contextmanager
def _browser_path() -> Iterator[None]:
    if os.environ.get("BROWSER_PATH") or not SYSTEM_CHROMIUM.exists():
        yield
        return
    os.environ["BROWSER_PATH"] = str(SYSTEM_CHROMIUM)
    try:
        yield
    finally:
        os.environ.pop("BROWSER_PATH", None)


def export_png(res: StudyResult, folder: str | Path, scale: float = 2.0) -> list[Path]:
    """Write each chart of the report as ``<chart id>.png`` into ``folder``.

    Parameters
    ----------
    res : StudyResult
    folder : path
        Created if needed.
    scale : float
        Pixel density (2 = sharp on high-resolution screens and in print).

    Returns
    -------
    list of Path
        The files written; empty when PNG export is unavailable (see
        :func:`png_unavailable_reason`). Charts show their initial state
        (menus at their first entry).
    """
    if png_unavailable_reason() is not None:
        return []
    from .figspecs import figure_specs

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    specs = figure_specs(res)
    figs = []
    for spec in specs:
        fig = spec["fig"]
        fig.layout.updatemenus = None  # a static image has no menus
        figs.append(fig)
    paths = [out / f"{spec['id']}.png" for spec in specs]
    with _browser_path():
        if hasattr(pio, "write_images"):  # plotly ≥ 6.1: one browser session for every chart
            pio.write_images(figs, paths, format="png", scale=scale, width=1100)
        else:  # pragma: no cover - older plotly
            for fig, path in zip(figs, paths, strict=True):
                fig.write_image(str(path), format="png", width=1100, scale=scale)
    return paths
