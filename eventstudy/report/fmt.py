"""Formatting helpers of the report: numbers, windows in words, escaping.

Nothing here computes a statistic; these functions turn values already in the
result's tables into text.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd

__all__ = [
    "DIRECTION_WORDS",
    "category_words",
    "direction_label",
    "fmt_num",
    "fmt_p",
    "fmt_pct",
    "fmt_pct_abs",
    "fmt_stat",
    "is_finite",
    "p_clause",
    "extension_clause",
    "pair_phrase",
    "parse_rbar",
    "plot_text",
    "shorten",
    "window_phrase",
]

#: Plain words for the ``direction`` column (as written in ``tests.csv``).
DIRECTION_WORDS: dict[str, str] = {"+1": "de-escalation", "-1": "escalation", "0": "unclear direction"}

_RBAR_RE = re.compile(r"r̄\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")


def is_finite(v: Any) -> bool:
    """True for a real, finite number (NaN, None, text → False)."""
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt_pct(v: Any, nd: int = 2) -> str:
    """Signed percentage of a fraction: ``-0.0123`` → ``"−1.23%"`` (empty if missing)."""
    if not is_finite(v):
        return ""
    return f"{100 * float(v):+.{nd}f}%".replace("-", "−")


def fmt_pct_abs(v: Any) -> str:
    """Unsigned percentage with 1 decimal from 1% up, else 2 (``0.029`` → ``"2.9%"``)."""
    if not is_finite(v):
        return ""
    a = abs(100 * float(v))
    return f"{a:.1f}%" if a >= 1 else f"{a:.2f}%"


def fmt_num(v: Any, nd: int = 2) -> str:
    """Fixed decimals with a true minus sign (empty if missing)."""
    if not is_finite(v):
        return ""
    return f"{float(v):.{nd}f}".replace("-", "−")


def fmt_stat(v: Any) -> str:
    """A test statistic: 2 decimals, or 3 significant digits when smaller than 0.01 in size."""
    if not is_finite(v):
        return ""
    f = float(v)
    return (f"{f:.2f}" if abs(f) >= 0.01 or f == 0 else f"{f:.2e}").replace("-", "−")


def fmt_p(p: Any) -> str:
    """p-value: ``"< 0.001"`` or three decimals (empty if missing)."""
    if not is_finite(p):
        return ""
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_clause(p: Any) -> str:
    """``"p = 0.012"`` / ``"p < 0.001"`` for sentences."""
    s = fmt_p(p)
    return f"p {s}" if s.startswith("<") else f"p = {s}"


def _sessions(k: int) -> str:
    return "1 session" if k == 1 else f"{k} sessions"


def interval_phrase(start: Any, end: Any) -> str:
    """An announcement interval in words (UTC): "between 2025-06-10 20:00 and 23:59 UTC"."""
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    if a.tzinfo is None:
        a, b = a.tz_localize("UTC"), b.tz_localize("UTC")
    a, b = a.tz_convert("UTC"), b.tz_convert("UTC")
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M}"
    return f"between {a:%Y-%m-%d %H:%M} and {tail} UTC (exact time unknown)"


def _days(a: int, b: int) -> str:
    if a == b:
        return f"day {a:+d}" if a else "day 0"
    lo = f"{a:+d}" if a else "0"
    return f"days {lo} to {b:+d}" if b else f"days {lo} to 0"


def extension_clause(w: tuple[int, int], ext: int = 1) -> str:
    """How a window ending at or after day 0 is extended where the hour is uncertain.

    ``(0, 0)`` → ", and day +1 where the hour is uncertain"; empty for a
    window that ends before day 0 (never extended) or when ``ext`` is 0.
    """
    b = w[1]
    if b < 0 or ext <= 0:
        return ""
    return f", and {_days(b + 1, b + ext)} where the hour is uncertain"


def window_phrase(w: tuple[int, int]) -> str:
    """A CAR window in words, with its extension where the hour of the news is uncertain.

    Day 0 is the first session closing after the earliest possible time of
    the news; where the hour is uncertain (a date only, or an interval across
    a close) windows ending at or after day 0 also cover the sessions up to
    the latest possible day 0. So ``(0, 0)`` → "on day 0, and day +1 where the
    hour is uncertain", ``(-1, 1)`` → "on days -1 to +1, and day +2 where the
    hour is uncertain", ``(-5, -1)`` → "on days -5 to -1".
    """
    a, b = w
    return f"on {_days(a, b)}{extension_clause(w)}"


def pair_phrase(w: tuple[int, int], ext: int = 0) -> str:
    """A pair's CAR window as a prefix to an event's title.

    ``(0, 0)`` → "in the first session after" when the pair's window is not
    extended; ``(0, 0)`` with ``ext=1`` → "on day 0 and day +1 (the hour is
    uncertain) of" — an extended window is never called "the first session".
    """
    a, b = w
    if ext > 0 and b >= 0:
        return f"on {_days(a, b)} and {_days(b + 1, b + ext)} (the hour is uncertain) of"
    if a == 0 and b == 0:
        return "in the first session after"
    if a == 0:
        return f"in the first {b + 1} sessions after"
    if a < 0 <= b:
        return (
            f"from {_sessions(-a)} before to {_sessions(b)} after"
            if b
            else f"from {_sessions(-a)} before up to the first session after"
        )
    return f"over sessions {a:+d} to {b:+d} around"


def parse_rbar(note: Any) -> float:
    """The ``r̄=…`` value written in a test's note (NaN when absent)."""
    if not isinstance(note, str):
        return float("nan")
    m = _RBAR_RE.search(note)
    return float(m.group(1)) if m else float("nan")


def direction_label(d: Any) -> str:
    """``"-1"``/``-1`` → "escalation" etc.; unknown values pass through."""
    key = str(d).strip()
    if key in ("1", "+1.0", "1.0"):
        key = "+1"
    if key in ("-1.0",):
        key = "-1"
    if key in ("0.0",):
        key = "0"
    return DIRECTION_WORDS.get(key, key)


def category_words(c: Any) -> str:
    """``"tariff_escalation"`` → "tariff escalation"."""
    return str(c).replace("_", " ")


def shorten(text: Any, n: int = 70) -> str:
    """Text cut to ``n`` characters with an ellipsis."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def plot_text(text: Any) -> str:
    """Escape text for plotly labels, legends and hovers.

    plotly.js renders a subset of HTML tags inside chart text and decodes
    ``&lt; &gt; &amp;``; escaping these three shows any event text literally.
    (plotly.py additionally escapes ``<``, ``>`` and ``/`` in the JSON it
    embeds, so nothing can close the ``<script>`` element.)
    """
    s = "" if text is None else str(text)
    return html.escape(s, quote=False)
