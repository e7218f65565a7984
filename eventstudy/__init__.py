"""eventstudy — how markets react to news.

A small public API::

    import eventstudy as es
    events = es.read_events("events.csv")
    prices = es.load_prices(["^HSI", "^GDAXI", "ACWI"], source="snapshot")
    res = es.EventStudy(events, prices, model="market", benchmark="ACWI").run()
    res.summary(); res.save("reports/x")
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
    PricesError,
)
from .events import Events, events_from_records, read_events
from .inference import TESTS, register_test
from .markets import DEFAULT_SYMBOLS, MARKETS
from .models import MODELS, register_model
from .results import StudyResult
from .sources import Prices, load_prices
from .study import EventStudy

__version__ = "0.1.0"

__all__ = [
    "EventStudy",
    "StudyResult",
    "StudyConfig",
    "Events",
    "Prices",
    "read_events",
    "events_from_records",
    "load_prices",
    "parse_window",
    "format_window",
    "MODELS",
    "TESTS",
    "MARKETS",
    "DEFAULT_SYMBOLS",
    "register_model",
    "register_test",
    "EventStudyError",
    "InputError",
    "EventsFileError",
    "PricesError",
    "ConfigError",
    "DataError",
    "NetworkError",
    "__version__",
]
