"""What the mapping form offers for a file: the rules behind the Data page's widgets.

The page draws one widget per choice; the choices themselves are decided here,
so that they can be tested without a browser and read in one place:

* the fields a time form uses and which of them are required
  (:data:`~analysis.ingest.mapping.FORM_FIELDS`, :data:`~analysis.ingest.mapping.REQUIRED_BY_FORM`);
* the event fields whose values need a value map, and the codes each offers
  (:func:`event_fields`, :func:`value_choices`);
* the unmapped columns that hold only numbers (:func:`numeric_columns`): they
  can be declared categories;
* whether the form must still ask for a time unit (:func:`needs_unit_for_dates`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.cohort.model import STANDARD_LEVELS
from analysis.ingest.mapping import CAUSE_LABELS, FORM_FIELDS
from analysis.ingest.values import CAUSE_TOKENS, EVENT_TOKENS, unit_in_name, value_key

FORM_LABELS: dict[str, str] = {
    "durations": "Durations (time to death/last contact, time to relapse)",
    "dates": "Dates (HSCT2, relapse, death or last contact)",
    "cause": "One time and a cause code (0 censored, 1 relapse, 2 death without relapse)",
}
EVENT_CODES: dict[int, str] = {1: "event (1)", 0: "no event (0)"}


def event_fields(form: str) -> tuple[str, ...]:
    """Fields of a time form whose values map to event codes: the cause, or death and relapse."""
    if form == "cause":
        return ("cause",)
    return tuple(f for f in ("death", "relapse") if f in FORM_FIELDS[form])


def value_choices(field_name: str) -> tuple[dict, dict[str, object]]:
    """For an event, cause or standard category field: the codes offered (code -> label) and the defaults.

    The defaults map a value key to the code it gets when the user has not
    chosen: the standard event and cause tokens, or each standard level's own name.
    """
    if field_name == "cause":
        return dict(CAUSE_LABELS), dict(CAUSE_TOKENS)
    if field_name in STANDARD_LEVELS:
        levels = STANDARD_LEVELS[field_name]
        return ({level: level for level in levels},
                {key: level for level in levels if (key := value_key(level)) is not None})
    return dict(EVENT_CODES), dict(EVENT_TOKENS)


def numeric_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Those of ``columns`` whose every recorded value is a number (candidates for "numbers that are categories")."""
    return [c for c in columns
            if pd.to_numeric(frame[c], errors="coerce").notna().sum() == frame[c].notna().sum()]


def needs_unit_for_dates(chosen: Mapping[str, str]) -> bool:
    """With dates no unit is needed, except for an HSCT1 → relapse interval without one in its name."""
    column = chosen.get("months_hsct1_to_relapse")
    return column is not None and unit_in_name(column) is None
