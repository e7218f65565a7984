"""Study parameters: one immutable :class:`StudyConfig`, checked at the boundary.

Windows are pairs of relative session days ``(start, end)``, inclusive, and
are written ``-1:+1`` in files, options and tables (:func:`parse_window`,
:func:`format_window`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from numbers import Integral
from typing import Any, Literal, get_args

import numpy as np

from .errors import InputError, show
from .markets import CalendarSpec, parse_calendars
from .returns import ReturnKind

__all__ = [
    "DEFAULT_CAR_WINDOWS",
    "StudyConfig",
    "Window",
    "WindowLike",
    "format_window",
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
MAX_OFFSET = 10_000
"""Farthest session from day 0 a window may reach (about 40 years of sessions)."""
MAX_DRAWS = 100_000
MAX_SEED = 2**63 - 1
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
            raise InputError(f"{name}: {show(text)} is not a window; write START:END, e.g. -1:+1")
        a, b = int(m.group(1)), int(m.group(2))
    for v in (a, b):
        if abs(v) > MAX_OFFSET:
            raise InputError(
                f"{name}: {v} sessions from day 0 is too far; windows stay within ±{MAX_OFFSET} sessions"
            )
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
        ``market-adjusted``, ``market`` or ``garch`` (GARCH(1,1) errors; the
        market mean with a benchmark, the constant mean without; see
        :mod:`eventstudy.models.garch`).
    benchmark : str or None
        Benchmark symbol for ``market`` and ``market-adjusted`` (and the
        market mean of ``garch``).
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
        lags without ``beta`` mean Dimson for every market. With the
        ``factor`` model ``beta`` (``ols`` or ``dimson``), ``lags`` and
        ``leads`` apply to every factor.
    factors : tuple of str
        Factor series of the ``factor`` model (symbols of the prices; text
        ``"A,B"`` or a list). A ``benchmark`` given with ``factor`` is the
        first factor (see :mod:`eventstudy.models.factor`).
    name : str or None
        Study name (output folder); derived from the parameters when omitted.
    covariates : tuple of str
        Extra numeric columns of the events entered in the second-stage
        regression of every window (``cross_section.csv``, ``covariates.csv``;
        :mod:`eventstudy.analysis.covariates`).
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
    covariates: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        from .models import get_model

        for key in ("draws", "seed", "min_estimation"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise InputError(f"{key}: {v!r} is not a whole number")
        for key in ("model", "returns", "gaps"):
            if not isinstance(getattr(self, key), str):
                raise InputError(f"{key}: {getattr(self, key)!r} must be text")
        for key in ("benchmark", "name"):
            v = getattr(self, key)
            if v is not None and not isinstance(v, str):
                raise InputError(f"{key}: {v!r} must be text")
        if not isinstance(self.car_windows, (tuple, list)):
            raise InputError(f"car: {self.car_windows!r} must be a list of windows like -1:+1")
        mdl = get_model(self.model)
        object.__setattr__(self, "calendar", parse_calendars(self.calendar))
        object.__setattr__(self, "estimation", parse_window(self.estimation, "estimation"))
        object.__setattr__(self, "window", parse_window(self.window, "window"))
        object.__setattr__(self, "mask", parse_window(self.mask, "mask"))
        cws = tuple(parse_window(w, "car") for w in self.car_windows)
        if not cws:
            raise InputError("car: give at least one CAR window, e.g. --car 0:0")
        object.__setattr__(self, "car_windows", tuple(dict.fromkeys(cws)))
        if not 19 <= self.draws <= MAX_DRAWS:
            raise InputError(f"draws: {self.draws!r} is out of range; use 19 … {MAX_DRAWS:,} (999 is usual)")
        if not 0 <= self.seed <= MAX_SEED:
            raise InputError(f"seed: {self.seed!r} is out of range; use a whole number 0 … 2**63-1")
        if self.name is not None:
            from .errors import OutputError
            from .output import safe_folder_name

            try:
                safe_folder_name(self.name, "name")
            except OutputError as exc:
                raise InputError(str(exc)) from None
        if self.gaps not in get_args(GapPolicy):
            raise InputError(f"gaps: {show(self.gaps)} is not valid; use keep or drop")
        if self.returns not in get_args(ReturnKind):
            raise InputError(f"returns: {show(self.returns)} is not valid; use simple or log")
        self._check_betas()
        self._check_covariates()
        self._check_factors()
        if mdl.needs_benchmark and not self.benchmark:
            raise InputError(
                f"benchmark: model {show(self.model)} needs a benchmark; pass --benchmark SYMBOL (e.g. ACWI)"
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

    def _check_factors(self) -> None:
        raw = self.factors
        if isinstance(raw, str):
            raw = (raw,)
        if not isinstance(raw, (tuple, list)) or not all(isinstance(f, str) for f in raw):
            raise InputError(f"factors: {raw!r} must be symbols, e.g. --factors ACWI,EURUSD=X")
        items = [f.strip() for text in raw for f in text.split(",")]
        if any(not f for f in items):
            raise InputError(f"factors: {show(','.join(raw))} has an empty symbol; write --factors SYM,SYM")
        dup = sorted({f for f in items if items.count(f) > 1})
        if dup:
            raise InputError(f"factors: {show(dup[0])} is listed twice; name each factor once")
        object.__setattr__(self, "factors", tuple(items))
        if items and self.model != "factor":
            raise InputError(
                f"factors: only the factor model takes factors (model is '{self.model}'); add --model factor"
            )
        if self.model == "factor" and not items and not self.benchmark:
            raise InputError(
                "factors: model 'factor' needs factor series; pass --factors SYM,SYM (e.g. ACWI,EURUSD=X)"
            )

    def _check_betas(self) -> None:
        betas = ("market", "factor")
        if self.beta is not None and self.beta not in BETAS:
            raise InputError(f"beta: '{self.beta}' is not valid; use {', '.join(BETAS)}")
        if self.beta is not None and self.model not in betas:
            raise InputError(
                f"beta: only the market and factor models estimate betas (model is '{self.model}')"
            )
        if self.beta == "scholes-williams" and self.model == "factor":
            raise InputError("beta: scholes-williams is for the market model; use ols or dimson with factors")
        for key in ("lags", "leads"):
            v = getattr(self, key)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_LAGS:
                raise InputError(f"{key}: {v!r} is not valid; use an integer from 0 to {MAX_LAGS}")
            if self.model not in betas:
                raise InputError(
                    f"{key}: only the market and factor models have {key} (model is '{self.model}')"
                )
            if self.beta in ("ols", "scholes-williams"):
                raise InputError(
                    f"{key}: only Dimson betas take {key} (beta is '{self.beta}'); use --beta dimson"
                )

    def _check_covariates(self) -> None:
        names = [self.covariates] if isinstance(self.covariates, str) else self.covariates
        if not isinstance(names, (tuple, list)) or not all(isinstance(c, str) and c for c in names):
            raise InputError(f"covariate: {self.covariates!r} must be column names of the events")
        object.__setattr__(self, "covariates", tuple(dict.fromkeys(names)))

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
        if self.model == "factor":
            from .models.factor import factor_list

            bench = "-" + "+".join(f.strip("^").lower() for f in factor_list(self.factors, self.benchmark))
        # a benchmark is any column of a user's file: keep the name one plain folder name
        name = re.sub(r"[^A-Za-z0-9._+=-]+", "_", f"{self.model}{bench}{self._beta_suffix()}").lstrip(".")
        return name[:120] or "study"

    def _beta_suffix(self) -> str:
        """``-ols``, ``-sw`` or ``-dimson`` with its lags/leads when the betas were chosen."""
        if self.beta is None and self.lags is None and self.leads is None:
            return ""
        if self.beta in ("ols", "scholes-williams"):
            return "-ols" if self.beta == "ols" else "-sw"
        lags = 1 if self.lags is None else self.lags
        return f"-dimson{lags}" + (f"-lead{self.leads}" if self.leads else "")

    def _factor_param(self) -> dict[str, Any]:
        """``{"factors": [...]}``, every factor used (the benchmark first), for the factor model only."""
        if self.model != "factor":
            return {}
        from .models.factor import factor_list

        return {"factors": list(factor_list(self.factors, self.benchmark))}

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
            covariates=tuple(params.get("covariates") or ()),
            factors=tuple(params.get("factors") or ()),
        )
        # to_dict writes the derived study name; keep only a name that was chosen
        name = params.get("name")
        return cfg if not name or name == cfg.study_name else cfg.with_(name=name)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready parameters (windows written ``-1:+1``)."""
        return (
            {
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
                **({"covariates": list(self.covariates)} if self.covariates else {}),
            }
            | self._factor_param()
            | ({"calendars": dict(self.calendar.per_symbol)} if self.calendar.per_symbol else {})
        )


def _calendar_param(params: dict[str, Any]) -> CalendarSpec:
    """The calendar spec of saved parameters (``calendar`` and ``calendars``)."""
    per = params.get("calendars") or {}
    default = params.get("calendar")
    return parse_calendars(([default] if default else []) + [f"{k}={v}" for k, v in per.items()])
