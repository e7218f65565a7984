"""The example notebook runs, and the documentation site builds (offline, strict).

Both are slow (marked ``slow``): left out of the default ``pytest`` and run by CI with
``pytest -m slow`` (see the README's testing section).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a Jupyter kernel runs the default study twice and saves it (~13 s)
def test_example_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(REPO / "examples" / "library.ipynb", as_version=4)
    # the kernel imports this checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("cluster_t" in h for h in html)  # the result's HTML view
    text = "".join(o.get("text", "") for o in outputs)
    assert "tables.tex" in text and "\\begin{tabular}" in text


@pytest.mark.slow  # mkdocs builds the whole site with the API reference in a subprocess
@pytest.mark.skipif(shutil.which("mkdocs") is None, reason="mkdocs is not installed (pip install '.[docs]')")
def test_docs_build_strict(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(REPO)},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    page = (tmp_path / "site" / "reference" / "index.html").read_text("utf-8")
    assert "to_latex" in page and "events_from_frame" in page
    assert "fonts.googleapis" not in (tmp_path / "site" / "index.html").read_text("utf-8")
