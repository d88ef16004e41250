"""Forest plots of hazard ratios: text columns beside a log-scale HR axis (Plotly).

Layout, left to right: term | n | events | HR axis (log, line at 1) | HR (95 % CI) | p.
Every covariate gets a bold header row and one row per level; the reference
level is a row of its own (HR 1, "reference"). Up to two models can share the
rows (e.g. univariable and multivariable), drawn with a small vertical offset
and with a text column pair each. A hazard ratio that is not an estimate
(monotone likelihood) gets no marker, only its reason; if its profile
interval has one finite limit, a line runs from that limit to the axis edge.
Whatever runs off the axis (an interval, or an estimate itself) ends in an
arrow at the edge, so that a clipped line never reads as a short one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.cohort.model import label
from analysis.figures.style import FONT_FAMILY, GRID_COLOUR, MUTED_COLOUR, SMALL_FONT_SIZE, TEXT_COLOUR, TITLE_FONT_SIZE
from analysis.stats.cox.fit import CoxModel
from analysis.text import hazard_ratio_text as format_hr
from analysis.text import masked_count
from analysis.text import p_compact as format_p

COLUMNS = ["row", "label", "kind", "covariate", "level", "n", "events", "model", "hr", "lower", "upper", "p",
           "estimable", "note"]
MODEL_STYLES = [
    {"color": "#1f4e79", "symbol": "square"},
    {"color": "#8c8c8c", "symbol": "circle-open"},
]
PUBLISHED_STYLE = {"color": "#c0392b", "symbol": "diamond-open", "size": 13}
ROW_HEIGHT = 26
#: The forest's text columns are dense: the style's secondary size keeps six columns on one line.
FONT = SMALL_FONT_SIZE


class _ModelRows:
    """What the rows of a forest plot read from one model, looked up once (a table per model, not per row)."""

    def __init__(self, model: CoxModel):
        design = model.design
        self.model = model
        self.terms: dict[str, Any] = {}  # the first term of each covariate
        for term in design.terms.itertuples(index=False):
            self.terms.setdefault(str(term.covariate), term)
        self.summary = {r["term"]: r for r in model.summary.to_dict("records")}
        self.levels = {(lv.covariate, lv.level): lv for lv in design.levels.itertuples(index=False)}

    def term_label(self, covariate: str) -> str:
        row = self.terms[covariate]
        if row.kind == "numeric":
            unit = f"per 1 {row.unit.rstrip('s')}" if isinstance(row.unit, str) else "per unit"
            return f"{label(covariate)}, {unit}"
        return label(covariate)

    def members(self, cov: str, level: str) -> np.ndarray | None:
        """Which patients of the model have this level (the reference: none of the others)."""
        lv = self.levels.get((cov, level))
        if lv is None:
            return None
        design = self.model.design
        if bool(lv.is_reference):
            return ~(design.matrix[:, design.columns_of(cov)] == 1).any(axis=1)
        return design.matrix[:, design.names.index(cast(str, lv.term))] == 1

    def level_n(self, cov: str, level: str) -> float:
        members = self.members(cov, level)
        return np.nan if members is None else int(members.sum())

    def level_events(self, cov: str, level: str) -> float:
        members = self.members(cov, level)
        return np.nan if members is None else int(self.model.event[members].sum())


def forest_table(models: Mapping[str, CoxModel | Mapping[str, CoxModel]],
                 order: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of a forest plot from fitted models (display name -> model).

    A value may also map covariates to their own model (the univariable
    fits). The rows follow the covariates of the first model, then any
    others; each categorical covariate contributes a header row and a row per
    level (reference first), a numeric one a single row. ``order`` lists
    covariates to show first.
    """
    indexed: dict[int, _ModelRows] = {}

    def rows_of(model: CoxModel) -> _ModelRows:
        return indexed.setdefault(id(model), _ModelRows(model))

    rows: list[dict] = []
    position = 0
    for cov in _covariates(models, order):
        fits = {name: _model_for(value, cov) for name, value in models.items()}
        found = {name: rows_of(m) if m is not None else None for name, m in fits.items()}
        owner = next((m for m in found.values() if m is not None), None)
        if owner is None:
            continue
        levels = owner.model.design.levels
        levels = levels[levels["covariate"] == cov]
        if levels.empty:
            for name, m in found.items():
                rows.append(_estimate_row(position, owner.term_label(cov), "numeric", cov, None, m, name, cov))
            position += 1
            continue
        rows.append({"row": position, "label": owner.term_label(cov), "kind": "header", "covariate": cov})
        position += 1
        for lvl in levels.sort_values("is_reference", ascending=False).itertuples(index=False):
            level = cast(str, lvl.level)
            for name, m in found.items():
                if lvl.is_reference:
                    rows.append(_reference_row(position, cov, level, m, name))
                else:
                    rows.append(_estimate_row(position, f"{lvl.level}", "level", cov, lvl.level, m, name, lvl.term))
            position += 1
    return pd.DataFrame(rows, columns=COLUMNS)


def _covariates(models: Mapping[str, CoxModel | Mapping[str, CoxModel]], order: Sequence[str] | None) -> list[str]:
    """``order`` first, then the covariates of every model in their order."""
    covs: list[str] = list(order) if order is not None else []
    for value in models.values():
        for model in (value.values() if isinstance(value, Mapping) else [value]):
            covs += [c for c in dict.fromkeys(model.design.terms["covariate"]) if c not in covs]
    return covs


def _model_for(value: CoxModel | Mapping[str, CoxModel], covariate: str) -> CoxModel | None:
    if isinstance(value, Mapping):
        return value.get(covariate)
    return value if covariate in set(value.design.terms["covariate"]) else None


def _reference_row(position: int, cov: str, level: str, m: _ModelRows | None, name: str) -> dict:
    return {"row": position, "label": level, "kind": "reference", "covariate": cov, "level": level,
            "n": m.level_n(cov, level) if m else np.nan, "model": name, "hr": 1.0,
            "events": m.level_events(cov, level) if m else np.nan, "estimable": True, "note": "reference"}


def _estimate_row(position, text, kind, cov, level, m: _ModelRows | None, name, term) -> dict:
    base = {"row": position, "label": text, "kind": kind, "covariate": cov, "level": level, "model": name}
    r = m.summary.get(term) if m is not None else None
    if m is None or r is None:
        return {**base, "n": np.nan, "events": np.nan, "hr": np.nan, "lower": np.nan, "upper": np.nan,
                "p": np.nan, "estimable": False, "note": "not in this model"}
    estimable = term not in m.model.infinite
    return {**base, "n": r["n"], "events": r["events"], "hr": r["hr"], "lower": r["lower"], "upper": r["upper"],
            "p": r["p"], "estimable": estimable,
            "note": "" if estimable else _unbounded_note(r["lower"], r["upper"])}


def _unbounded_note(lower: float, upper: float) -> str:
    """What a row without an estimate says: where its interval is open (profile likelihood), or why it has none."""
    if np.isfinite(upper) and upper > 0 and not lower > 0:
        return f"→ 0 (CI 0–{upper:.2g})"
    if np.isfinite(lower) and lower > 0 and not np.isfinite(upper):
        return f"→ ∞ (CI {lower:.2g}–∞)"
    return "not estimable (monotone likelihood)"


def _axis_range(table: pd.DataFrame, published: pd.DataFrame | None) -> tuple[float, float]:
    est = table[table["estimable"].eq(True) & table["kind"].isin(["level", "numeric"])]
    values = np.concatenate([est["lower"].to_numpy(float), est["upper"].to_numpy(float), [1.0]])
    if published is not None and len(published):
        values = np.concatenate([values, published["hr"].to_numpy(float)])
    values = values[np.isfinite(values) & (values > 0)]
    # at least 0.5–2 so the line at 1 never sits near the edge and both sides have a tick
    lo = max(min(values.min() / 1.3, 0.5), 0.01)
    hi = min(max(values.max() * 1.3, 2.0), 100.0)
    return float(np.log10(lo)), float(np.log10(hi))


@dataclass(frozen=True)
class _Columns:
    """Paper-x positions of the text columns; the HR axis sits between events and HR (CI)."""

    label: float
    n: float
    events: float
    axis: tuple[float, float]
    hr: tuple[float, ...]
    p: tuple[float, ...]
    hr_size: int

    @classmethod
    def for_models(cls, count: int) -> _Columns:
        if count > 1:
            return cls(0.0, 0.25, 0.31, (0.33, 0.555), (0.57, 0.785), (0.765, 0.985), FONT)
        return cls(0.0, 0.30, 0.37, (0.40, 0.74), (0.76,), (0.975,), FONT)


def _text(x: float, y: float, s: str, anchor: str = "left", bold: bool = False, color: str = TEXT_COLOUR,
          size: int = FONT) -> dict:
    """One cell of the table: ``x`` on the paper (0–1), ``y`` the row, ``anchor`` the side the text starts from."""
    return {"x": x, "y": y, "text": f"<b>{s}</b>" if bold else s, "anchor": anchor, "size": size, "color": color}


#: Where a text column's cells sit from their x: left-anchored text begins there, right-anchored ends there.
_TEXT_POSITION = {"left": "middle right", "right": "middle left"}


def _text_traces(cells: list[dict]) -> list[dict]:
    """The table's cells as text traces, one per column and style, on a hidden paper-wide axis ``x2``.

    The browser draws a text trace much faster than the same cells as annotations (each annotation is
    measured and placed on its own), which matters on every rerun of the Risk factors page.
    """
    columns: dict[tuple, list[dict]] = {}
    for cell in cells:
        columns.setdefault((cell["x"], cell["anchor"], cell["size"], cell["color"]), []).append(cell)
    return [{"type": "scatter", "mode": "text", "xaxis": "x2", "x": [x] * len(column),
             "y": [c["y"] for c in column], "text": [c["text"] for c in column], "textposition": _TEXT_POSITION[anchor],
             "textfont": {"size": size, "color": color}, "hoverinfo": "skip", "showlegend": False, "cliponaxis": False}
            for (x, anchor, size, color), column in columns.items()]


def forest_cells(fig: go.Figure) -> list[str]:
    """The texts of a forest figure's table (factor, n, events, HR (95 % CI), p), column by column."""
    return [str(t) for trace in fig.data if trace.mode == "text" for t in trace.text]


def _header_cells(models: list[str], cols: _Columns) -> list[dict]:
    two = len(models) > 1
    out = [_text(cols.label, -1, "Factor", bold=True), _text(cols.n, -1, "n", anchor="right", bold=True),
           _text(cols.events, -1, "Events", anchor="right", bold=True)]
    for k, name in enumerate(models):
        head = f"{name}<br>HR (95% CI)" if two else "HR (95% CI)"
        out.append(_text(cols.hr[k], -1, head, bold=True, color=MODEL_STYLES[k]["color"] if two else TEXT_COLOUR))
        out.append(_text(cols.p[k], -1, "p", anchor="right", bold=True))
    return out


def _row_cells(table: pd.DataFrame, models: list[str], cols: _Columns,
                     min_count: int | None = None) -> list[dict]:
    out: list[dict] = []
    for key, group in table.groupby("row", sort=True):
        row = cast(int, key)
        first = group.iloc[0]
        if first["kind"] == "header":
            out.append(_text(cols.label, row, first["label"], bold=True))
            continue
        indent = "    " if first["kind"] in ("level", "reference") else ""
        out.append(_text(cols.label, row, indent + str(first["label"])))
        if pd.notna(first["n"]):
            out.append(_text(cols.n, row, masked_count(first["n"], min_count), anchor="right"))
        if pd.notna(first["events"]):
            out.append(_text(cols.events, row, masked_count(first["events"], min_count), anchor="right"))
        for _, r in group.iterrows():
            k = models.index(r["model"])
            if r["kind"] == "reference":
                out.append(_text(cols.hr[k], row, "1 (reference)", color="#666", size=cols.hr_size))
            elif not r["estimable"]:
                # One line at the figure's text size (a projector shows nothing smaller); two models share the
                # width, so there the reason is left to the page.
                note = str(r["note"]) if len(models) == 1 else str(r["note"]).split(" (")[0]
                out.append(_text(cols.hr[k], row, note, color="#a04000", size=FONT))
            else:
                out.append(_text(cols.hr[k], row, format_hr(r["hr"], r["lower"], r["upper"]), size=cols.hr_size))
                out.append(_text(cols.p[k], row, format_p(r["p"]), anchor="right", size=cols.hr_size))
    return out


def _model_traces(table: pd.DataFrame, models: list[str], lo: float, hi: float) -> list[dict]:
    two = len(models) > 1
    offsets = [-0.15, 0.15] if two else [0.0]
    traces = []
    for k, name in enumerate(models):
        sub = table[(table["model"] == name) & table["kind"].isin(["level", "numeric", "reference"])
                    & table["estimable"].eq(True)]
        if sub.empty:
            continue
        style = MODEL_STYLES[k]
        y = sub["row"].to_numpy(float) + offsets[k]
        is_ref = (sub["kind"] == "reference").to_numpy()
        est = ~is_ref
        # a CI running off the axis is cut at its edge (the text column gives the full interval)
        lower = np.clip(sub["lower"].to_numpy(float), 10**lo, 10**hi)[est]
        upper = np.clip(sub["upper"].to_numpy(float), 10**lo, 10**hi)[est]
        xs = np.column_stack([lower, upper, np.full(len(lower), np.nan)]).ravel()
        ys = np.repeat(y[est], 3)
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
                       "line": {"color": style["color"], "width": 2}, "hoverinfo": "skip", "showlegend": False,
                       "connectgaps": False})
        if is_ref.any():
            traces.append({"type": "scatter", "x": np.ones(int(is_ref.sum())), "y": y[is_ref], "mode": "markers",
                           "showlegend": False, "marker": {"color": "white", "symbol": "square", "size": 9,
                                                           "line": {"color": style["color"], "width": 1.5}},
                           "hovertemplate": "reference level<extra></extra>"})
        labels = sub["label"].astype(str).to_numpy()[est]
        hr = sub["hr"].to_numpy(float)[est]
        traces.append({
            "type": "scatter", "x": np.where((hr >= 10**lo) & (hr <= 10**hi), hr, np.nan), "y": y[est],
            "mode": "markers",
            "name": name if two else "Hazard ratio",
            "marker": {"color": style["color"], "symbol": style["symbol"], "size": 11,
                       "line": {"color": style["color"], "width": 2}},
            "text": [f"{lab}: HR {format_hr(h, a, b)}, p = {format_p(pv)}" for lab, h, a, b, pv in
                     zip(labels, sub["hr"].to_numpy(float)[est], sub["lower"].to_numpy(float)[est],
                         sub["upper"].to_numpy(float)[est], sub["p"].to_numpy(float)[est], strict=True)],
            "hovertemplate": "%{text}<extra></extra>", "showlegend": two})
    return traces


def _arrow_traces(table: pd.DataFrame, models: list[str], lo: float, hi: float) -> list[dict]:
    """Arrows at the axis edges where an interval or an estimate runs off the axis, and the open intervals.

    A row without an estimate but with one finite profile limit gets a line
    from that limit to the edge on its open side.
    """
    offsets = [-0.15, 0.15] if len(models) > 1 else [0.0]
    edge_lo, edge_hi = 10**lo, 10**hi
    traces: list[dict] = []
    for k, name in enumerate(models):
        sub = table[(table["model"] == name) & table["kind"].isin(["level", "numeric"])]
        if sub.empty:
            continue
        y = sub["row"].to_numpy(float) + offsets[k]
        hr, lower, upper = (sub[c].to_numpy(float) for c in ("hr", "lower", "upper"))
        estimable = sub["estimable"].eq(True).to_numpy()
        open_low = ~estimable & (np.nan_to_num(lower) <= 0) & np.isfinite(upper) & (upper > 0)
        open_high = ~estimable & (lower > 0) & np.isfinite(lower) & ~np.isfinite(upper)
        left = (estimable & ((lower < edge_lo) | (hr < edge_lo))) | open_low
        right = (estimable & ((upper > edge_hi) | (hr > edge_hi))) | open_high
        colour = MODEL_STYLES[k]["color"]
        for mask, limit, edge in ((open_low, upper, edge_lo), (open_high, lower, edge_hi)):
            if mask.any():
                count = int(mask.sum())
                xs = np.column_stack([np.clip(limit[mask], edge_lo, edge_hi), np.full(count, edge),
                                      np.full(count, np.nan)])
                traces.append({"type": "scatter", "x": xs.ravel(), "y": np.repeat(y[mask], 3), "mode": "lines",
                               "line": {"color": colour, "width": 2, "dash": "dot"}, "hoverinfo": "skip",
                               "showlegend": False})
        for mask, edge, symbol in ((left, edge_lo, "triangle-left"), (right, edge_hi, "triangle-right")):
            if mask.any():
                traces.append({"type": "scatter", "x": np.full(int(mask.sum()), edge), "y": y[mask],
                               "mode": "markers", "marker": {"color": colour, "symbol": symbol, "size": 13},
                               "cliponaxis": False, "showlegend": False,
                               "hovertemplate": "beyond the axis: see the HR column<extra></extra>"})
    return traces


def _block_shapes(table: pd.DataFrame) -> list[dict]:
    """The line at HR 1 and a light band behind every other covariate, so its levels read as one group."""
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": 1, "x1": 1, "y0": 0, "y1": 1,
               "line": {"color": MUTED_COLOUR, "width": 1, "dash": "dot"}}]
    for i, (_, block) in enumerate(table.groupby("covariate", sort=False)):
        if i % 2 == 0:
            shapes.append({"type": "rect", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "layer": "below",
                           "y0": block["row"].min() - 0.5, "y1": block["row"].max() + 0.5,
                           "fillcolor": "#f3f5f8", "line": {"width": 0}})
    return shapes


def forest_figure(table: pd.DataFrame, *, title: str, published: pd.DataFrame | None = None,
                  published_label: str = "Published (Momm et al.)", subtitle: str | None = None,
                  min_count: int | None = None) -> go.Figure:
    """The forest plot of a :func:`forest_table` (or a table with the same columns).

    ``published`` (row, hr; see :func:`published_rows`) adds open diamonds at those rows.
    ``min_count`` (disclosure control): n and events below it show as "<min_count".
    """
    models = list(dict.fromkeys(table["model"].dropna()))
    two = len(models) > 1
    cols = _Columns.for_models(len(models))
    n_rows = int(table["row"].max()) + 1 if len(table) else 0
    lo, hi = _axis_range(table, published)
    traces = (_model_traces(table, models, lo, hi) + _arrow_traces(table, models, lo, hi)
              + _text_traces(_header_cells(models, cols) + _row_cells(table, models, cols, min_count)))
    if published is not None and len(published):
        # The published HRs are multivariable: beside the first model's marker (the multivariable one), not between.
        offset = -0.15 if two else 0.0
        traces.append({"type": "scatter", "x": published["hr"].to_numpy(float),
                       "y": published["row"].to_numpy(float) + offset, "mode": "markers", "name": published_label,
                       "marker": {"color": PUBLISHED_STYLE["color"], "symbol": PUBLISHED_STYLE["symbol"],
                                  "size": PUBLISHED_STYLE["size"], "line": {"width": 2}},
                       "hovertemplate": published_label + ": HR %{x:.2f}<extra></extra>"})
    top = (95 if two else 80) + (20 if subtitle else 0)
    title_text = f"<b>{title}</b>" + (f"<br><span style='font-size:{SMALL_FONT_SIZE}px;color:{MUTED_COLOUR}'>"
                                       f"{subtitle}</span>"
                                       if subtitle else "")
    # a wide axis (intervals running far off) gets decades only, so the labels stay upright and apart
    candidates = (0.01, 0.1, 1, 10, 100) if hi - lo > 2.5 else (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50,
                                                                 100)
    ticks = [v for v in candidates if lo <= np.log10(v) <= hi]
    layout = dict(
        title={"text": title_text, "x": 0, "xanchor": "left", "font": {"size": TITLE_FONT_SIZE}},
        height=140 + ROW_HEIGHT * (n_rows + 1) + (30 if subtitle else 0),
        margin={"l": 12, "r": 12, "t": top, "b": 60},
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="white",  # the text columns' axis lies over the HR axis
        font={"size": FONT, "family": FONT_FAMILY, "color": TEXT_COLOUR},
        xaxis={"type": "log", "domain": list(cols.axis), "range": [lo, hi], "tickvals": ticks,
               "ticktext": [f"{v:g}" for v in ticks], "title": {"text": "Hazard ratio (log scale)"},
               "showgrid": True, "gridcolor": GRID_COLOUR, "zeroline": False, "ticks": "outside"},
        xaxis2={"domain": [0, 1], "range": [0, 1], "anchor": "y", "visible": False, "fixedrange": True},
        yaxis={"range": [n_rows - 0.5, -1.9 if two else -1.6], "visible": False, "fixedrange": True},
        shapes=_block_shapes(table),
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        hovermode="closest",
    )
    # Validating ~100 text cells costs tens of ms per rerun; the tests validate the same dicts instead.
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def published_rows(table: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Published HRs placed on the forest rows they belong to (matching covariate and level)."""
    rows = []
    levels = table[table["kind"] == "level"].drop_duplicates("row")
    for pub in published.itertuples(index=False):
        match = levels[(levels["covariate"] == pub.factor) & (levels["level"] == pub.level)]
        if len(match):
            rows.append({"row": int(match["row"].iloc[0]), "hr": float(cast(float, pub.hr)), "p_text": pub.p_text})
    return pd.DataFrame(rows, columns=["row", "hr", "p_text"])


def term_text(term: str, levels: Sequence[str] | None = None) -> str:
    """A model term as a reader says it: ``"atg=yes"`` → ``"ATG: yes"``; with the factor's two ``levels``,
    ``"ATG: yes vs no"``. Terms without ``=`` are column names and get their label."""
    column, sep, level = term.partition("=")
    if not sep:
        return label(term)
    others = [str(v) for v in (levels or ()) if str(v) != level]
    return f"{label(column)}: {level}" + (f" vs {others[0]}" if len(others) == 1 else "")


def subgroup_forest_table(effects) -> pd.DataFrame:
    """Rows of a subgroup forest plot from :func:`analysis.analyses.risk_factors.subgroup_effects`.

    One block per subgrouping covariate, its header carrying the interaction p.
    """
    rows: list[dict] = []
    position = 0
    name = f"HR of {term_text(effects.term)}"
    tests = effects.interaction.set_index("by")
    for by, block in effects.table.groupby("by", sort=False):
        p = tests.loc[by, "p"] if by in tests.index else np.nan
        head = label(by) + (f"  (interaction p = {format_p(p)})" if np.isfinite(p) else "")
        rows.append({"row": position, "label": head, "kind": "header", "covariate": by})
        position += 1
        for r in block.itertuples(index=False):
            rows.append({"row": position, "label": str(r.level), "kind": "level", "covariate": by,
                         "level": r.level, "n": r.n, "events": r.events, "model": name, "hr": r.hr,
                         "lower": r.lower, "upper": r.upper, "p": r.p, "estimable": bool(r.estimable),
                         "note": r.note or ("" if r.estimable else "not estimable")})
            position += 1
    return pd.DataFrame(rows, columns=COLUMNS)
