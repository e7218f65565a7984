"""eventstudy — how markets react to news.

A small public API::

    import eventstudy as es
    events = es.read_events("events.csv")
    prices = es.load_prices(["^HSI", "^GDAXI", "ACWI"], source="snapshot")
    res = es.EventStudy(events, prices, model="market", benchmark="ACWI").run()
    res.summary(); res.to_latex(by="direction"); res.save("reports/x")

Events and prices may also be DataFrames (:mod:`eventstudy.frames`); windows
are accepted as ``(a, b)``, ``"a:b"`` or ``"a:+b"`` everywhere.
"""

from __future__ import annotations

from .config import StudyConfig, format_window, parse_window
from .errors import (
    ConfigError,
    DataError,
    EventsFileError,
    EventStudyError,
    InputError,
    NetworkError,
    OutputError,
    PricesError,
)
from .events import Events, events_from_records, read_events, validate_events
from .frames import events_from_frame, prices_from_frame
from .inference import TESTS, register_test
from .markets import DEFAULT_SYMBOLS, MARKETS
from .models import MODELS, register_model
from .results import StudyResult
from .sources import Prices, load_prices
from .study import EventStudy

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SYMBOLS",
    "MARKETS",
    "MODELS",
    "TESTS",
    "ConfigError",
    "DataError",
    "EventStudy",
    "EventStudyError",
    "Events",
    "EventsFileError",
    "InputError",
    "NetworkError",
    "OutputError",
    "Prices",
    "PricesError",
    "StudyConfig",
    "StudyResult",
    "__version__",
    "events_from_frame",
    "events_from_records",
    "format_window",
    "load_prices",
    "parse_window",
    "prices_from_frame",
    "read_events",
    "register_model",
    "register_test",
    "validate_events",
]
