"""Study parameters: one immutable :class:`StudyConfig`, checked at the boundary.

Windows are pairs of relative session days ``(start, end)``, inclusive, and
are written ``-1:+1`` in files, options and tables (:func:`parse_window`,
:func:`format_window`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from numbers import Integral
from pathlib import Path
from typing import Any, Literal, get_args

from .errors import ConfigError, InputError
from .markets import CalendarSpec, parse_calendars
from .returns import ReturnKind

__all__ = [
    "DEFAULT_CAR_WINDOWS",
    "StudyConfig",
    "Window",
    "WindowLike",
    "format_window",
    "load_config_file",
    "parse_window",
]

Window = tuple[int, int]
#: A window as the library accepts it: ``(a, b)``, ``"a:b"`` or ``"a:+b"``.
WindowLike = tuple[int, int] | list[int] | str
GapPolicy = Literal["keep", "drop"]
#: Betas of the market model: plain OLS on the same date, Dimson (1979) sum of
#: betas over lags (and leads), Scholes and Williams (1977).
BetaMethod = Literal["ols", "dimson", "scholes-williams"]
BETAS: tuple[str, ...] = get_args(BetaMethod)
MAX_LAGS = 10
DEFAULT_CAR_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 1), (-5, 5))
_WIN_RE = re.compile(r"^\s*([+-]?\d+)\s*[:,]\s*([+-]?\d+)\s*$")


def parse_window(text: str | Window | list[int], name: str = "window") -> Window:
    """Parse ``"-1:+1"``, ``"-1:1"`` (or ``"-1,1"``, or a pair ``(-1, 1)``) into ``(-1, 1)``.

    Raises
    ------
    InputError
        When the text is not two integers or the start is after the end.
    """
    if isinstance(text, (tuple, list)):
        if len(text) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in text):
            raise InputError(f"{name}: {list(text)!r} is not a pair of integers like -1:1")
        a, b = int(text[0]), int(text[1])
    else:
        m = _WIN_RE.match(str(text))
        if not m:
            raise InputError(f"{name}: '{text}' is not a window; write START:END, e.g. -1:+1")
        a, b = int(m.group(1)), int(m.group(2))
    if a > b:
        raise InputError(
            f"{name}: '{format_window((a, b))}' starts after it ends; write START:END with START <= END"
        )
    return (a, b)


def format_window(w: Window) -> str:
    """``(-1, 1)`` → ``"-1:+1"``; ``(0, 0)`` → ``"0:0"``."""

    def one(v: int) -> str:
        return f"+{v}" if v > 0 else str(v)

    return f"{one(w[0])}:{one(w[1])}"


@dataclass(frozen=True)
class StudyConfig:
    """Parameters of an event study.

    Parameters
    ----------
    model : str
        Registered normal-return model: ``constant-mean`` (default),
        ``market-adjusted`` or ``market``.
    benchmark : str or None
        Benchmark symbol for ``market`` and ``market-adjusted``.
    estimation : (int, int)
        Estimation window in sessions relative to day 0 (default −250…−11).
    window : (int, int)
        Event window (default −10…+10).
    car_windows : tuple of (int, int)
        CAR windows, each inside the event window.
    returns : {"simple", "log"}
    mask : (int, int)
        Sessions around every other event of the same market removed from
        each estimation window (default −1…+1).
    min_estimation : int
        Minimum estimation observations; pairs with fewer are excluded.
    seed : int
        Seed of the resampling tests.
    gaps : {"keep", "drop"}
        Returns that span several sessions because a session has no price:
        ``keep`` (default; they are listed in the manifest's data quality) or
        ``drop`` (removed from estimation and event windows).
    draws : int
        Draws of the resampling tests (wild bootstrap).
    calendar : str, sequence of str, mapping or CalendarSpec, optional
        Exchange calendars of symbols the registry does not know:
        ``"XHKG"`` (every unknown symbol), ``"HSI=XHKG"`` or
        ``{"HSI": "XHKG"}`` (one symbol), or a list of both; stored as a
        :class:`~eventstudy.markets.CalendarSpec` (see
        :func:`~eventstudy.markets.calendar_for`).
    beta : {"ols", "dimson", "scholes-williams"} or None
        Betas of the ``market`` model. ``None`` (default): Dimson with one lag
        for the markets that the benchmark closes after (compared by the
        calendars' closing times), plain OLS for the others (see
        :mod:`eventstudy.sync`).
    lags, leads : int or None
        Benchmark lags (default 1) and leads (default 0) of the Dimson betas;
        lags without ``beta`` mean Dimson for every market.
    name : str or None
        Study name (output folder); derived from the parameters when omitted.
    """

    model: str = "constant-mean"
    benchmark: str | None = None
    estimation: Window = (-250, -11)
    window: Window = (-10, 10)
    car_windows: tuple[Window, ...] = DEFAULT_CAR_WINDOWS
    returns: ReturnKind = "simple"
    mask: Window = (-1, 1)
    min_estimation: int = 100
    seed: int = 12345
    name: str | None = None
    calendar: Any = None
    gaps: GapPolicy = "keep"
    draws: int = 999
    beta: BetaMethod | None = None
    lags: int | None = None
    leads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        from .models import get_model

        mdl = get_model(self.model)
        object.__setattr__(self, "calendar", parse_calendars(self.calendar))
        object.__setattr__(self, "estimation", parse_window(self.estimation, "estimation"))
        object.__setattr__(self, "window", parse_window(self.window, "window"))
        object.__setattr__(self, "mask", parse_window(self.mask, "mask"))
        cws = tuple(parse_window(w, "car") for w in self.car_windows)
        if not cws:
            raise InputError("car: give at least one CAR window, e.g. --car 0:0")
        object.__setattr__(self, "car_windows", tuple(dict.fromkeys(cws)))
        if not isinstance(self.draws, int) or self.draws < 19:
            raise InputError(f"draws: {self.draws!r} is too few; use at least 19 (999 is usual)")
        if self.gaps not in get_args(GapPolicy):
            raise InputError(f"gaps: '{self.gaps}' is not valid; use keep or drop")
        if self.returns not in get_args(ReturnKind):
            raise InputError(f"returns: '{self.returns}' is not valid; use simple or log")
        self._check_betas()
        if mdl.needs_benchmark and not self.benchmark:
            raise InputError(
                f"benchmark: model '{self.model}' needs a benchmark; pass --benchmark SYMBOL (e.g. ACWI)"
            )
        lo, hi = self.window
        for w in self.car_windows:
            if w[0] < lo or w[1] > hi:
                raise InputError(
                    f"car: window {format_window(w)} lies outside the event window "
                    f"{format_window(self.window)}; widen --window or narrow --car"
                )
        if self.estimation[1] >= lo:
            raise InputError(
                f"estimation: {format_window(self.estimation)} must end before the event window "
                f"{format_window(self.window)} starts"
            )
        if self.min_estimation < self.estimation_length_floor():
            raise InputError(
                f"min_estimation: {self.min_estimation} is too small; at least "
                f"{self.estimation_length_floor()} observations are needed"
            )

    def _check_betas(self) -> None:
        if self.beta is not None and self.beta not in BETAS:
            raise InputError(f"beta: '{self.beta}' is not valid; use {', '.join(BETAS)}")
        if self.beta is not None and self.model != "market":
            raise InputError(f"beta: only the market model estimates betas (model is '{self.model}')")
        for key in ("lags", "leads"):
            v = getattr(self, key)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_LAGS:
                raise InputError(f"{key}: {v!r} is not valid; use an integer from 0 to {MAX_LAGS}")
            if self.model != "market":
                raise InputError(
                    f"{key}: only the market model has benchmark {key} (model is '{self.model}')"
                )
            if self.beta in ("ols", "scholes-williams"):
                raise InputError(
                    f"{key}: only Dimson betas take {key} (beta is '{self.beta}'); use --beta dimson"
                )

    def estimation_length_floor(self) -> int:
        """The smallest usable ``min_estimation`` (k + 3, so the t has a variance)."""
        return 5

    @property
    def study_name(self) -> str:
        """Folder name of the study."""
        if self.name:
            return self.name
        bench = (
            f"-{self.benchmark.strip('^').lower()}"
            if self.benchmark and self.model != "constant-mean"
            else ""
        )
        return f"{self.model}{bench}{self._beta_suffix()}"

    def _beta_suffix(self) -> str:
        """``-ols``, ``-sw`` or ``-dimson`` with its lags/leads when the betas were chosen."""
        if self.beta is None and self.lags is None and self.leads is None:
            return ""
        if self.beta in ("ols", "scholes-williams"):
            return "-ols" if self.beta == "ols" else "-sw"
        lags = 1 if self.lags is None else self.lags
        return f"-dimson{lags}" + (f"-lead{self.leads}" if self.leads else "")

    def with_(self, **changes: Any) -> StudyConfig:
        """A copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> StudyConfig:
        """The inverse of :meth:`to_dict` (e.g. the ``parameters`` of a saved ``study.json``)."""
        cfg = cls(
            model=params["model"],
            benchmark=params.get("benchmark"),
            estimation=parse_window(params["estimation"], "estimation"),
            window=parse_window(params["window"], "window"),
            car_windows=tuple(parse_window(w, "car") for w in params["car_windows"]),
            returns=params.get("returns", "simple"),
            mask=parse_window(params.get("mask", "-1:+1"), "mask"),
            min_estimation=int(params.get("min_estimation", 100)),
            seed=int(params.get("seed", 12345)),
            calendar=_calendar_param(params),
            gaps=params.get("gaps", "keep"),
            draws=int(params.get("draws", 999)),
            beta=params.get("beta"),
            lags=params.get("lags"),
            leads=params.get("leads"),
        )
        # to_dict writes the derived study name; keep only a name that was chosen
        name = params.get("name")
        return cfg if not name or name == cfg.study_name else cfg.with_(name=name)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready parameters (windows written ``-1:+1``)."""
        return {
            "name": self.study_name,
            "model": self.model,
            "benchmark": self.benchmark,
            "estimation": format_window(self.estimation),
            "window": format_window(self.window),
            "car_windows": [format_window(w) for w in self.car_windows],
            "returns": self.returns,
            "mask": format_window(self.mask),
            "min_estimation": self.min_estimation,
            "seed": self.seed,
            "calendar": self.calendar.default,
            "gaps": self.gaps,
            "draws": self.draws,
            "beta": self.beta,
            "lags": self.lags,
            "leads": self.leads,
        } | ({"calendars": dict(self.calendar.per_symbol)} if self.calendar.per_symbol else {})


def _calendar_param(params: dict[str, Any]) -> CalendarSpec:
    """The calendar spec of saved parameters (``calendar`` and ``calendars``)."""
    per = params.get("calendars") or {}
    default = params.get("calendar")
    return parse_calendars(([default] if default else []) + [f"{k}={v}" for k, v in per.items()])


_TOML_KEYS = {
    "detail",
    "name",
    "events",
    "symbols",
    "source",
    "prices",
    "benchmark",
    "model",
    "estimation",
    "window",
    "car",
    "returns",
    "mask",
    "min_estimation",
    "seed",
    "category",
    "direction",
    "start",
    "end",
    "out",
    "calendar",
    "beta",
    "lags",
    "leads",
}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a ``study.toml`` (TOML only; nothing is evaluated).

    Keys match the long CLI options (``car`` may be a list). Unknown keys are
    an error naming the key.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found")
    try:
        data = tomllib.loads(p.read_text("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    table = data.get("study", data)
    if not isinstance(table, dict):
        raise ConfigError(f"{p}: [study] must be a table")
    unknown = sorted(set(table) - _TOML_KEYS)
    if unknown:
        raise ConfigError(f"{p}: unknown key '{unknown[0]}'; valid keys: {', '.join(sorted(_TOML_KEYS))}")
    return dict(table)
