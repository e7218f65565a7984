"""Hostile inputs and faults: nothing the toolkit did not write is ever touched.

Each test reproduces one class of the data-safety campaign (issue 12) and
asserts the exit code, a one-line stderr without a traceback, and that every
pre-existing file is byte-identical afterwards.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from eventstudy import csvout
from eventstudy.cli import app
from eventstudy.output import MARKER, atomic_folder, check_target, is_study_folder, sweep

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
EVENTS = "event_id,timestamp,title\ne1,2021-03-04,one\ne2,2021-06-10,two\n"  # dates: no calendar needed


def _prices(path: Path, n: int = 400, cols: tuple[str, ...] = ("AAA", "BBB")) -> Path:
    rng = np.random.default_rng(0)
    d = pd.bdate_range("2020-01-01", periods=n)
    data = {"date": d.strftime("%Y-%m-%d")}
    for i, c in enumerate(cols):
        data[c] = (100 * (i + 1) * np.exp(np.cumsum(rng.normal(0, 0.01, n)))).round(4)
    pd.DataFrame(data).to_csv(path, index=False)
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "ev.csv").write_text(EVENTS)
    _prices(tmp_path / "px.csv")
    return tmp_path


def _args(base: Path, *extra: str) -> list[str]:
    return ["run", "--events", str(base / "ev.csv"), "--prices", str(base / "px.csv"), *extra]


def _invoke(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stderr


def _one_line(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def _snapshot(root: Path) -> dict[str, str]:
    """Path → sha256 of every file (and link target) below ``root``."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[rel] = "dir"
    return out


def _cli(*args: str, cwd: Path, **kw: object) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "eventstudy", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ ownership of outputs
def test_out_naming_a_user_folder_is_refused_and_left_byte_identical(inputs: Path) -> None:
    proj = inputs / "proj"
    proj.mkdir()
    (proj / "thesis.txt").write_text("draft chapter 1\n")
    (proj / "data").mkdir()
    (proj / "data" / "notes.md").write_text("notes\n")
    before = _snapshot(inputs)
    code, err = _invoke(*_args(inputs, "--out", str(proj)))
    assert code == 1
    _one_line(err)
    assert "not written by eventstudy" in err and "proj" in err
    assert _snapshot(inputs) == before


def test_out_naming_the_input_folder_is_refused(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(inputs)
    before = _snapshot(inputs)
    code, err = _invoke(*_args(inputs, "--out", "."))
    assert code == 1
    _one_line(err)
    assert _snapshot(inputs) == before


def test_out_naming_a_file_is_refused(inputs: Path) -> None:
    f = inputs / "paper.tex"
    f.write_text("\\documentclass{article}\n")
    before = _snapshot(inputs)
    code, err = _invoke(*_args(inputs, "--out", str(f)))
    assert code == 1
    _one_line(err)
    assert "not a folder" in err
    assert _snapshot(inputs) == before


@pytest.mark.parametrize("to_study", [False, True])
def test_out_naming_a_symlink_is_refused(inputs: Path, earlier_study: Path, to_study: bool) -> None:
    real = inputs / "real"
    if to_study:
        shutil.copytree(earlier_study, real)
    else:
        real.mkdir()
        (real / "keep.txt").write_text("keep\n")
    (inputs / "link").symlink_to(real, target_is_directory=True)
    before = _snapshot(inputs)
    code, err = _invoke(*_args(inputs, "--out", str(inputs / "link")))
    assert code == 1
    _one_line(err)
    assert "symbolic link" in err
    assert _snapshot(inputs) == before


@pytest.mark.parametrize("name", ["../victim", "/tmp/victim-abs", "a/b", "..", ".hidden", "x\ny", ""])
def test_name_never_leaves_the_reports_folder(
    inputs: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    work = inputs / "work"
    work.mkdir()
    (inputs / "victim").mkdir()
    (inputs / "victim" / "precious.txt").write_text("precious\n")
    monkeypatch.chdir(work)
    before = _snapshot(inputs)
    code, err = _invoke(*_args(inputs, "--name", name))
    assert code == 2
    _one_line(err)
    assert "name" in err
    assert _snapshot(inputs) == before
    assert not Path("/tmp/victim-abs").exists()


def test_name_in_a_shared_study_toml_cannot_escape(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (inputs / "study.toml").write_text('[study]\nname = "../victim"\n')
    (inputs / "victim").mkdir()
    (inputs / "victim" / "precious.txt").write_text("precious\n")
    work = inputs / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = _snapshot(inputs)
    code, err = _invoke(*_args(inputs, "--config", str(inputs / "study.toml")))
    assert code == 2
    _one_line(err)
    assert _snapshot(inputs) == before


def test_a_study_folder_is_replaced_and_an_empty_folder_is_used(inputs: Path) -> None:
    out = inputs / "o"
    out.mkdir()  # empty: allowed
    code, err = _invoke(*_args(inputs, "--out", str(out)))
    assert code == 0, err
    assert is_study_folder(out) and (out / MARKER).is_file()
    first = (out / "study.json").read_text()
    code, err = _invoke(*_args(inputs, "--out", str(out), "--car", "0:+1"))
    assert code == 0, err
    assert (out / "study.json").read_text() != first  # replaced: it was the toolkit's study
    assert "replaced the earlier study" in err and "car_windows" in err  # never silently
    assert sorted(p.name for p in inputs.iterdir() if p.name.startswith(".")) == []


def test_a_study_folder_holding_a_users_file_is_not_replaced(inputs: Path, earlier_study: Path) -> None:
    out = inputs / "o"
    shutil.copytree(earlier_study, out)
    (out / "my notes.docx").write_bytes(b"PK\x03\x04 the user's notes")
    (out / "figures").mkdir()
    before = _snapshot(inputs)
    code, err = _invoke(*_args(inputs, "--out", str(out), "--car", "0:+1"))
    assert code == 1
    _one_line(err)
    assert "my notes.docx" in err and "did not write" in err
    assert _snapshot(inputs) == before


def test_hand_written_listing_is_never_overwritten(inputs: Path) -> None:
    reports = inputs / "reports"
    reports.mkdir()
    (reports / "index.html").write_text("<html><body>my own page</body></html>\n")
    before = _snapshot(reports)
    code, err = _invoke(*_args(inputs, "--out", str(reports / "s1")))
    assert code == 0  # the study itself is fine
    assert "warning" in err and "index.html" in err and "Traceback" not in err
    assert (reports / "index.html").read_text() == "<html><body>my own page</body></html>\n"
    assert {k: v for k, v in _snapshot(reports).items() if not k.startswith("s1")} == before
    code, err = _invoke("report", str(reports))
    assert code == 1
    _one_line(err)
    assert (reports / "index.html").read_text() == "<html><body>my own page</body></html>\n"


def test_no_listing_in_a_folder_holding_user_files(inputs: Path) -> None:
    # inputs/ holds ev.csv and px.csv: a study may go in a new subfolder, but
    # inputs/index.html is not the toolkit's to create
    code, err = _invoke(*_args(inputs, "--out", str(inputs / "s")))
    assert code == 0
    assert not (inputs / "index.html").exists()
    assert err == ""  # a working folder simply gets no listing


def test_report_does_not_put_a_listing_into_a_folder_without_studies(inputs: Path) -> None:
    before = _snapshot(inputs)
    code, err = _invoke("report", str(inputs))
    assert code == 1
    _one_line(err)
    assert "no study folder" in err
    assert _snapshot(inputs) == before


def test_listing_failure_keeps_the_study_and_warns(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import eventstudy.report.index as index

    def boom(*a: object, **k: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(inputs / "reports" / "index.html"))

    monkeypatch.setattr(index, "write_reports_index", boom)
    code, err = _invoke(*_args(inputs, "--out", str(inputs / "reports" / "s")))
    assert code == 0
    assert is_study_folder(inputs / "reports" / "s")
    assert err.count("\n") == 1 and "warning" in err and "No space left" in err
    assert [p.name for p in (inputs / "reports").iterdir()] == ["s"]  # no stray temp file


def test_disk_full_during_save_is_one_line_and_keeps_the_earlier_study(
    inputs: Path, earlier_study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = inputs / "o"
    shutil.copytree(earlier_study, out)
    before = _snapshot(out)
    real = csvout.to_csv

    def full(df: pd.DataFrame, path: Path) -> None:  # the folder's CSV writer, file by file
        if str(path).endswith("car.csv"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(df, path)

    monkeypatch.setattr(csvout, "to_csv", full)
    code, err = _invoke(*_args(inputs, "--out", str(out), "--car", "0:+1"))
    assert code == 1
    _one_line(err)
    assert "No space left" in err and "free some space" in err
    assert _snapshot(out) == before
    assert not [p for p in inputs.iterdir() if p.name.startswith(".")]


def test_unwritable_place_is_one_line(inputs: Path) -> None:
    # a path under a file cannot be created (meaningful even as root)
    (inputs / "afile").write_text("x\n")
    code, err = _invoke(*_args(inputs, "--out", str(inputs / "afile" / "sub" / "s")))
    assert code == 1
    _one_line(err)
    assert "afile" in err
    assert (inputs / "afile").read_text() == "x\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_one_line(inputs: Path) -> None:  # pragma: no cover - not as root
    ro = inputs / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, err = _invoke(*_args(inputs, "--out", str(ro / "s")))
    finally:
        ro.chmod(0o755)
    assert code == 1
    _one_line(err)
    assert "ermission" in err


def test_ownership_is_checked_again_at_the_swap(tmp_path: Path) -> None:
    target = tmp_path / "t"
    with pytest.raises(Exception, match="not written by eventstudy"), atomic_folder(target) as tmp:
        (tmp / "car.csv").write_text("new\n")
        target.mkdir()  # someone puts their own folder there meanwhile
        (target / "mine.txt").write_text("mine\n")
    assert (target / "mine.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_check_target_rules(tmp_path: Path) -> None:
    check_target(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_target(tmp_path / "empty")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "study.json").write_text('{"a": 1}')
    with pytest.raises(Exception, match="not written by eventstudy"):
        check_target(tmp_path / "fake")


# ------------------------------------------------------------------ interrupts and leftovers
def _slow_save_script(target: Path, events: Path, prices: Path, ready: Path) -> str:
    return f"""
import sys, time
import eventstudy as es
import eventstudy.results as results
res = es.EventStudy(es.read_events({str(events)!r}),
                    es.load_prices(source="csv", path={str(prices)!r})).run()
import eventstudy.csvout as csvout
real_to_csv = csvout.to_csv
def slow(df, path):  # the folder's CSV writer, file by file
    real_to_csv(df, path)
    if str(path).endswith("car.csv"):
        open({str(ready)!r}, "w").write("ready")
        time.sleep(60)
csvout.to_csv = slow
res.save({str(target)!r})
"""


def _wait_for(path: Path, seconds: float = 60) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if time.monotonic() - t0 > seconds:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


@pytest.mark.slow  # a study saved in another process, killed
def test_kill_9_during_save_leaves_nothing_listed_and_is_swept(inputs: Path) -> None:
    reports = inputs / "reports"
    ready = inputs / "ready"
    script = _slow_save_script(reports / "s", inputs / "ev.csv", inputs / "px.csv", ready)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        _wait_for(ready)
    finally:
        proc.kill()
        proc.wait()
    leftovers = [p.name for p in reports.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".s.tmp-")  # the killed run's temp folder
    code, err = _invoke("report", str(reports))
    assert code == 0, err
    html = (reports / "index.html").read_text()
    assert ".s.tmp" not in html and "No study folder" in html
    code, err = _invoke(*_args(inputs, "--out", str(reports / "s")))
    assert code == 0, err
    assert sorted(p.name for p in reports.iterdir()) == ["index.html", "s"]  # swept


def test_sweep_restores_an_old_study_whose_replacement_never_arrived(tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above Linux's largest pid: no such process
    old = tmp_path / f".s.old-{dead}-abcd1234"
    old.mkdir()
    (old / "study.json").write_text("{}")
    stale = tmp_path / f".t.tmp-{dead}-abcd1234"
    stale.mkdir()
    (stale / "car.csv").write_text("half\n")
    live = tmp_path / f".u.tmp-{os.getpid()}-abcd1234"  # a save in progress in this process
    live.mkdir()
    (tmp_path / ".hidden-user-folder").mkdir()
    sweep(tmp_path)
    assert (tmp_path / "s" / "study.json").read_text() == "{}"
    assert not stale.exists() and not old.exists()
    assert live.exists() and (tmp_path / ".hidden-user-folder").exists()


@pytest.fixture(scope="module")
def earlier_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study folder written by ``run`` once; tests that need an earlier study copy it."""
    base = tmp_path_factory.mktemp("earlier")
    (base / "ev.csv").write_text(EVENTS)
    _prices(base / "px.csv")
    assert _invoke(*_args(base, "--out", str(base / "o")))[0] == 0
    return base / "o"


@pytest.mark.slow  # the CLI in another process, sent a signal
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_during_save_clean_up_and_say_so(
    inputs: Path, earlier_study: Path, sig: signal.Signals
) -> None:
    out = inputs / "o"
    shutil.copytree(earlier_study, out)
    before = _snapshot(out)
    ready = inputs / "ready"
    hook = inputs / "sitecustomize.py"
    # the ready file appears (by a rename) only once it is closed: a signal that lands while
    # a file object is finalized is reported as "ignored" by Python, not raised
    # a run started in the background by a non-interactive shell inherits SIGINT ignored, and
    # Python then keeps it ignored: the study is given the interactive default, as a user has it
    hook.write_text(
        "import os, signal, time\n"
        "import eventstudy.csvout as csvout\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "real = csvout.to_csv\n"
        "def slow(df, path):\n"
        "    r = real(df, path)\n"
        "    if str(path).endswith('car.csv'):\n"
        f"        with open({str(ready) + '.part'!r}, 'w') as f:\n"
        "            f.write('x')\n"
        f"        os.replace({str(ready) + '.part'!r}, {str(ready)!r})\n"
        "        time.sleep(60)\n"
        "    return r\n"
        "csvout.to_csv = slow\n"
    )
    env = dict(os.environ, PYTHONPATH=f"{inputs}{os.pathsep}{REPO}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventstudy", *_args(inputs, "--out", str(out), "--car", "0:+1")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(ready)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    _one_line(err)
    assert "interrupted; nothing was written" in err
    assert _snapshot(out) == before
    assert sorted(p.name for p in inputs.iterdir() if p.name.startswith(".")) == []


@pytest.mark.slow  # three CLI processes at once
def test_concurrent_saves_to_one_folder_never_fail(inputs: Path) -> None:
    out = inputs / "reports" / "s"
    procs = [_cli(*_args(inputs, "--out", str(out)), cwd=inputs) for _ in range(3)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    assert is_study_folder(out)
    assert sorted(p.name for p in (inputs / "reports").iterdir()) == ["index.html", "s"]
