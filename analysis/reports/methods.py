"""The methods, in words, from what was computed: one line per figure and a paragraph for a report.

Wording follows how transplant outcomes are reported (EBMT statistical
guidelines, Iacobelli 2013; Scrucca et al. 2007): the time origin, the
estimator and its variance, the confidence-interval scale, the test, the Cox
ties method, how competing events are handled, median follow-up by reverse
Kaplan-Meier, and the software with its version. Every phrase is chosen
from the options the analysis actually used, so the paragraph cannot claim a
method that was not run.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass

import numpy
import pandas
import scipy

from analysis._version import __version__
from analysis.text import join_words, month_label

CI_SCALES = {"log-log": "log(−log)", "log": "log", "plain": "linear (plain)"}


def km_method(conf_type: str = "log-log", test: str | None = "Log-rank", trend: bool = False) -> str:
    """``"Kaplan-Meier, 95 % pointwise CI (Greenwood variance, log(−log) scale); log-rank test"``."""
    text = f"Kaplan-Meier, 95 % pointwise CI (Greenwood variance, {CI_SCALES.get(conf_type, conf_type)} scale)"
    if test:
        text += f"; {_test_name(test)} test"
        if trend:
            text += " and log-rank test for trend"
    return text


def _test_name(method: str) -> str:
    """``"Log-rank"`` → ``"log-rank"``; the Fleming-Harrington names keep their capitals."""
    return "log-rank" if method == "Log-rank" else method


def cif_method(gray: bool = True) -> str:
    """``"Cumulative incidence (Aalen-Johansen), competing event: ...; Gray's test"``."""
    text = ("Cumulative incidence (Aalen-Johansen) with relapse and death without relapse as competing events, "
            "95 % CI on the log(−log) scale (cmprsk variance)")
    return text + ("; Gray's test" if gray else "")


def cox_method(endpoint_name: str, penalty: str | None = None) -> str:
    """``"Cox proportional hazards (Efron ties), 95 % Wald CI"``; cause-specific for relapse and NRM."""
    kind = "cause-specific Cox" if endpoint_name in ("relapse", "nrm") else "Cox"
    fit = ", Firth-penalized" if penalty == "firth" else ""
    return f"{kind} proportional hazards model (Efron ties{fit}), hazard ratios with 95 % Wald CI"


def software_versions() -> str:
    """``"HSCT2 Explorer 0.2.0 (Python 3.11.2, numpy 2.4.6, scipy 1.17.1, pandas 2.3.3)"``."""
    return (f"HSCT2 Explorer {__version__} (Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"scipy {scipy.__version__}, pandas {pandas.__version__})")


@dataclass(frozen=True)
class MethodsUsed:
    """What a report computed, to be said in its methods paragraph."""

    endpoints: Sequence[str] = ("os", "rfs")
    conf_type: str = "log-log"
    test: str | None = "Log-rank"
    trend: bool = False
    grouped: bool = False
    gray: bool = False
    cox_endpoint: str | None = "os"
    cox_covariates: Sequence[str] = ()
    penalty: str | None = None
    landmarks: Sequence[float] = (12, 24, 60)
    pairwise: bool = False


def methods_paragraph(used: MethodsUsed) -> str:
    """The methods as a paragraph for a report, from what was computed."""
    names = {"os": "overall survival (OS; death from any cause)", "rfs": "relapse-free survival (RFS; relapse or "
             "death, whichever came first)"}
    parts = ["Time zero was the day of the second allogeneic stem cell transplant (HSCT2); times are in months "
             "(1 month = 30.4375 days)."]
    endpoints = join_words([names[e] for e in used.endpoints if e in names])
    parts.append(f"{endpoints[:1].upper()}{endpoints[1:]} "
                 f"{'were' if len(used.endpoints) > 1 else 'was'} estimated by the Kaplan-Meier method with "
                 f"Greenwood's variance and pointwise 95 % confidence intervals on the "
                 f"{CI_SCALES.get(used.conf_type, used.conf_type)} scale.")
    if used.grouped and used.test:
        test = f"the {_test_name(used.test)} test"
        extra = " with Holm-adjusted pairwise comparisons" if used.pairwise else ""
        trend = " and a log-rank test for trend across the ordered groups" if used.trend else ""
        parts.append(f"Groups were compared with {test}{extra}{trend}.")
    parts.append("The cumulative incidence of relapse and of non-relapse mortality (NRM) was estimated with the "
                 "Aalen-Johansen estimator, treating relapse and death without relapse as competing events "
                 "(never as 1 − Kaplan-Meier), with 95 % confidence intervals on the log(−log) scale"
                 + ("; groups were compared with Gray's test." if used.grouped and used.gray else "."))
    if used.cox_endpoint:
        covs = f" of {join_words(list(used.cox_covariates))}" if used.cox_covariates else ""
        fit = "; the Firth penalty was used" if used.penalty == "firth" else ""
        parts.append(f"Hazard ratios{covs} for {used.cox_endpoint.upper()} come from a multivariable Cox "
                     f"proportional hazards model with Efron's method for ties and 95 % Wald confidence "
                     f"intervals{fit}; proportional hazards were checked with the Grambsch-Therneau test.")
    parts.append("Median follow-up was estimated by the reverse Kaplan-Meier method (Schemper & Smith). "
                 f"Estimates are given at {join_words([month_label(t) for t in used.landmarks])} with their "
                 "95 % confidence intervals and the number still at risk.")
    parts.append(f"Computed with {software_versions()}; the estimators reproduce R survival (survfit, survdiff, "
                 "coxph) and cmprsk (cuminc).")
    return " ".join(parts)
