"""Analyses beyond the single-test battery, as pure functions of a study's tables.

* :mod:`.multitest` — Holm and Benjamini–Hochberg adjusted p-values for the
  per-pair CAR table and the grouped tests table.
* :mod:`.crosssection` — second-stage regression of CARs on event attributes
  (direction, category, market) with standard errors clustered by the clusters
  of dependent pairs (formula sheet §7.1).
* :mod:`.covariates` — the user's own numeric columns of the events as
  covariates of that regression (checked, with a sentence per coefficient).
* :mod:`.compare` — two groups of pairs compared: clustered difference of mean
  CARs and a rank test on cluster means.
* :mod:`.dummies` — Karafiath (1988) event-dummy regression per market with
  HAC standard errors, a cross-check of the standard approach.
"""

from __future__ import annotations

from .compare import Comparison, compare_groups
from .covariates import covariate_frame, covariate_table
from .crosssection import CrossSection, DirectionAnswer, cross_section, cross_section_tables, cross_sections
from .dummies import EventDummyResult, event_dummy_regression, newey_west_maxlags
from .dummypanel import EventDummyPanel, event_dummy_regressions
from .multitest import adjust, adjust_car_table, adjust_tests_table, adjust_within

__all__ = [
    "Comparison",
    "compare_groups",
    "covariate_frame",
    "covariate_table",
    "CrossSection",
    "DirectionAnswer",
    "EventDummyPanel",
    "EventDummyResult",
    "adjust",
    "adjust_car_table",
    "adjust_tests_table",
    "adjust_within",
    "cross_section",
    "cross_section_tables",
    "cross_sections",
    "event_dummy_regression",
    "event_dummy_regressions",
    "newey_west_maxlags",
]
