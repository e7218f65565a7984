"""How fast the report opens for a reader: headless Chromium timings of a report page.

Opens a report (by default the bundled study's, written fresh through the
public API) in Debian's Chromium driven by playwright, several times per
setting, and prints the medians of:

- first contentful paint: when the reader first sees text;
- DOM ready (``DOMContentLoaded``): when the page's scripts have run and the
  picker, the table sorter and the "Show all" buttons respond;
- charts drawn: when every chart holds its SVG;
- longest task: the longest stretch the page could not respond to input
  (Long Tasks API, tasks over 50 ms).

Two settings: a desktop (1400 px, the machine's CPU) and a phone (400 px,
CPU slowed four times with the DevTools protocol's
``Emulation.setCPUThrottlingRate``, about a mid-range phone). Times are
milliseconds from the start of navigation; compare pages measured in the
same run (``--page`` takes several files).

Usage::

    python bench/bench_report_page.py [--runs 5] [--page A.html --page B.html]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SETTINGS = {"desktop 1400 px": (1400, 1), "phone 400 px, CPU ÷4": (400, 4)}

_OBSERVE = """
window.__long = 0;
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) { window.__long = Math.max(window.__long, e.duration); });
}).observe({type: "longtask", buffered: true});
"""

_DRAWN = "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('svg'))"

_TIMES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {fcp: fcp ? fcp.startTime : NaN, ready: nav.domContentLoadedEventEnd, longest: window.__long};
}"""


def default_page(folder: Path) -> Path:
    """The bundled study's report, written through the public API into ``folder``."""
    import eventstudy as es
    from eventstudy.markets import DEFAULT_SYMBOLS

    events = es.read_events(Path(__file__).resolve().parents[1] / "events.csv")
    prices = es.load_prices(source="snapshot").select(list(DEFAULT_SYMBOLS))
    out = folder / "study"
    es.EventStudy(events, prices).run().save(out)
    return out / "index.html"


def measure(browser, page_file: Path, width: int, slow: int) -> dict[str, float]:
    """One opening of ``page_file``: the timings in ms (see the module's docstring)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(_OBSERVE)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": slow})
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        page.wait_for_function(_DRAWN, timeout=120_000)
        drawn = page.evaluate("performance.now()")
        times = page.evaluate(_TIMES)
        return {"fcp": times["fcp"], "ready": times["ready"], "drawn": drawn, "longest": times["longest"]}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--page", type=Path, action="append", help="report pages to compare (default: a fresh one)"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        pages = args.page or [default_page(Path(tmp))]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                print("| page | setting | first text | DOM ready | charts drawn | longest task |")
                print("| --- | --- | ---: | ---: | ---: | ---: |")
                for name, (width, slow) in SETTINGS.items():
                    runs: dict[Path, list[dict[str, float]]] = {f: [] for f in pages}
                    # pages alternate, so that drift in the machine's load hits each alike
                    for _ in range(args.runs):
                        for f in pages:
                            runs[f].append(measure(browser, f, width, slow))
                    for f in pages:
                        med = {k: statistics.median(r[k] for r in runs[f]) for k in runs[f][0]}
                        print(
                            f"| {f.name if args.page else 'default report'} | {name} | {med['fcp']:.0f} ms"
                            f" | {med['ready']:.0f} ms | {med['drawn']:.0f} ms | {med['longest']:.0f} ms |"
                        )
            finally:
                browser.close()


if __name__ == "__main__":
    main()
