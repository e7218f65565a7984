"""The report templates' compiled code on disk: reused across processes, never a reason to fail."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from eventstudy.report import render
from eventstudy.report.templatecache import FOLDER, TemplateCache
from eventstudy.sources.cache import CACHE_ENV


def _env(templates: dict[str, str]) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.DictLoader(templates), bytecode_cache=TemplateCache())


def _no_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the disk cache holds the template")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)


@pytest.mark.slow  # another interpreter
def test_a_second_process_reads_the_compiled_report_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot_study
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = render.ENV.overlay()  # an environment with its own (empty) memory cache
    first.cache = {}
    html = first.get_template("report.html.j2")
    entries = list((tmp_path / FOLDER).glob("*.jinja"))
    assert len(entries) == 1 and entries[0].stat().st_size > 10_000
    again = render.ENV.overlay()
    again.cache = {}
    with monkeypatch.context() as mp:
        _no_compile(mp)
        cached = again.get_template("report.html.j2")
    # the same page from the template compiled now and from the one read from disk
    monkeypatch.setattr(render.ENV, "get_template", lambda name: cached)
    from_disk = render.render_report(snapshot_study)
    monkeypatch.setattr(render.ENV, "get_template", lambda name: html)
    compiled = render.render_report(snapshot_study)
    assert _without_time(from_disk) == _without_time(compiled)


def _without_time(page: str) -> str:
    import re

    return re.sub(r"20\d\d-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?(\s*UTC)?", "", page)


def test_an_edited_template_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert _env({"t": "one {{ x }}"}).get_template("t").render(x=1) == "one 1"
    # the entry of the old text is stale for the new one (its checksum differs)
    assert _env({"t": "two {{ x }}"}).get_template("t").render(x=2) == "two 2"
    with monkeypatch.context() as mp:
        _no_compile(mp)
        assert _env({"t": "two {{ x }}"}).get_template("t").render(x=3) == "two 3"


def test_a_damaged_entry_is_compiled_again_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    _env({"t": "{{ x }}!"}).get_template("t")
    (entry,) = (tmp_path / FOLDER).glob("*.jinja")
    for damage in (b"", b"not a jinja entry", entry.read_bytes()[:40]):
        entry.write_bytes(damage)
        assert _env({"t": "{{ x }}!"}).get_template("t").render(x=4) == "4!"
        assert entry.stat().st_size > 40  # written again whole
    with monkeypatch.context() as mp:
        _no_compile(mp)
        assert _env({"t": "{{ x }}!"}).get_template("t").render(x=5) == "5!"


def test_a_cache_folder_that_cannot_be_written_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv(CACHE_ENV, str(blocker))  # <cache>/templates cannot be made under a file
    assert _env({"t": "{{ x }}?"}).get_template("t").render(x=6) == "6?"
    assert blocker.read_text() == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing else written
