"""Registry data pool centres: a Cox model with a centre-robust variance, and one stratified by centre.

Patients of one centre share care that the covariates do not record, so their
outcomes are correlated. Two ways to respect that, both offered on the Risk
factors page when the data have a ``centre`` column:

* the same hazard ratios with a **cluster-robust (sandwich) variance** by
  centre: wider or narrower CIs, R ``coxph(..., cluster = centre)``;
* a model **stratified by centre**: each centre its own baseline hazard, the
  hazard ratios compare patients within centres, R ``coxph(... + strata(centre))``.

Patients without a centre are left out of both (and of the ordinary model
they are compared with), so the three rest on the same patients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis.analyses.models import cox_model
from analysis.cohort.model import CohortError, endpoint
from analysis.cohort.post_transplant import CENTRE
from analysis.stats.cox.counting import CountingRiskSets, fit_counting
from analysis.stats.cox.design import CovariateSpec, DesignError, build_design
from analysis.stats.cox.fit import CoxFitError, CoxModel
from analysis.stats.cox.robust import RobustVariance, robust_variance

#: Fewer centres than this and the sandwich variance itself is unreliable (it is estimated from the centres).
FEW_CENTRES = 10


@dataclass(frozen=True, eq=False)
class CentreAnalysis:
    """The ordinary model, its centre-robust variance and the centre-stratified model, on the same patients.

    ``per_centre``: centre, patients, events (most patients first).
    ``problems``: why a model could not be fitted (keys "model", "stratified").
    ``warnings`` apply to both; ``robust_warnings`` / ``stratified_warnings`` to one.
    """

    endpoint: str
    per_centre: pd.DataFrame
    model: CoxModel | None
    robust: RobustVariance | None
    stratified: CoxModel | None
    problems: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    robust_warnings: tuple[str, ...] = ()
    stratified_warnings: tuple[str, ...] = ()

    def warnings_for(self, how: str) -> tuple[str, ...]:
        """The warnings that apply to the centre-robust (``"cluster"``) or stratified (``"strata"``) model."""
        return self.warnings + (self.robust_warnings if how == "cluster" else self.stratified_warnings)

    @property
    def n_centres(self) -> int:
        return len(self.per_centre)

    def comparison_table(self) -> pd.DataFrame:
        """Per term: HR with the model-based CI, with the centre-robust CI, and the centre-stratified HR."""
        rows = []
        if self.model is None:
            return pd.DataFrame(columns=["term", "hr", "lower", "upper", "p", "robust_lower", "robust_upper",
                                         "robust_p", "stratified_hr", "stratified_lower", "stratified_upper",
                                         "stratified_p"])
        strat = self.stratified.summary.set_index("term") if self.stratified is not None else None
        robust = self.robust.summary.set_index("term") if self.robust is not None else None
        for r in self.model.summary.itertuples(index=False):
            row = {"term": r.term, "hr": r.hr, "lower": r.lower, "upper": r.upper, "p": r.p}
            if robust is not None:
                rb = robust.loc[r.term]
                row.update(robust_lower=float(rb["lower"]), robust_upper=float(rb["upper"]), robust_p=float(rb["p"]))
            if strat is not None and r.term in strat.index:
                st = strat.loc[r.term]
                row.update(stratified_hr=float(st["hr"]), stratified_lower=float(st["lower"]),
                           stratified_upper=float(st["upper"]), stratified_p=float(st["p"]))
            rows.append(row)
        return pd.DataFrame(rows)


def patients_per_centre(cohort: pd.DataFrame, endpoint_name: str) -> pd.DataFrame:
    """Centre, patients and events of the endpoint, most patients first."""
    ep = endpoint(cohort, endpoint_name)
    frame = pd.DataFrame({"centre": cohort[CENTRE], "event": ep.event}).dropna(subset=["centre"])
    table = frame.groupby("centre", sort=False, observed=True).agg(patients=("event", "size"), events=("event", "sum"))
    return table.sort_values(["patients", "events"], ascending=False).reset_index()


def _warnings(per_centre: pd.DataFrame, missing: int) -> tuple[tuple[str, ...], ...]:
    """(both models, the robust variance, the stratified model)."""
    common = (f"{missing} patient(s) without a centre are left out of these models.",) if missing else ()
    robust = (f"Only {len(per_centre)} centres: the robust variance is estimated from the centres and is "
              f"itself unreliable with fewer than about {FEW_CENTRES}.",) if len(per_centre) < FEW_CENTRES else ()
    silent = per_centre[per_centre["events"] == 0]
    stratified = (f"{len(silent)} centre(s) without events ({int(silent['patients'].sum())} patients) contribute "
                  "nothing to the stratified model.",) if len(silent) else ()
    return common, robust, stratified


def centre_analysis(cohort: pd.DataFrame, endpoint_name: str, specs: Sequence[CovariateSpec]) -> CentreAnalysis:
    """The model, with a centre-robust variance and stratified by centre; never raises for bad data."""
    if CENTRE not in cohort:
        raise CohortError("these data have no centre column")
    has_centre = cohort[CENTRE].notna().to_numpy()
    data = cohort.loc[has_centre].reset_index(drop=True)
    per_centre = patients_per_centre(data, endpoint_name)
    problems: dict[str, str] = {}
    model = robust = stratified = None
    try:
        model = cox_model(data, endpoint_name, specs)
        rs = CountingRiskSets.build(None, model.time, model.event)
        robust = robust_variance(model, rs, data[CENTRE].to_numpy()[model.design.kept])
    except (CoxFitError, DesignError, CohortError, ValueError) as err:
        problems["model"] = str(err)
    try:
        ep = endpoint(data, endpoint_name)
        design = build_design(data, specs)
        codes = pd.factorize(data[CENTRE].astype(str), sort=True)[0]
        stratified = fit_counting(None, ep.time[design.kept], ep.event[design.kept], design,
                                  strata=codes[design.kept])
    except (CoxFitError, DesignError, CohortError) as err:
        problems["stratified"] = str(err)
    return CentreAnalysis(endpoint_name, per_centre, model, robust, stratified, problems,
                          *_warnings(per_centre, int((~has_centre).sum())))
