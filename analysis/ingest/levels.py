"""Reading a registry's own category values as the standard levels: "BCP-ALL" → B-ALL, TBI "yes" → TBI.

Exports spell the standard covariates in many ways: the paper's own
"precursor B-cell ALL", "BCP", "pre-B", "B-cell precursor", "T-cell"; sex as
m/f or M/W (German *weiblich*); a column ``tbi`` holding yes/no for the
conditioning; remission as CR1/CR2. :func:`standard_level` reads a value in
three steps, most certain first:

1. the value is a known synonym (:data:`LEVEL_SYNONYMS`), compared on its key
   and on its key without punctuation ("B-ALL", "b all" and "ball" alike);
2. the words of the value decide (:data:`_WORD_RULES`): "B-cell precursor"
   has the word *b*, "non-myeloablative" the words *non* and *myeloablative*;
3. a yes/no value in a column whose name says what "yes" means (``tbi``,
   ``atg``, ``female``...).

Every reading other than the level's own name is an *assumption*: the Data page
lists them (:func:`level_assumptions`) for the user to confirm, and the command
line prints them. Values none of the steps can place are left unmapped, and
validation names them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from analysis.cohort.model import STANDARD_LEVELS, label
from analysis.ingest.post_transplant import SEVERITY_SYNONYMS
from analysis.ingest.values import normalise_name, value_key, value_keys

#: Synonyms of the standard levels (normalised like :func:`value_key`).
LEVEL_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "sex": {"female": ("f", "female", "w", "weiblich", "girl", "woman", "fem", "frau"),
            "male": ("m", "male", "männlich", "maennlich", "boy", "man", "masc", "mann")},
    "lineage": {
        "B-ALL": ("b", "b-all", "bcp", "bcp-all", "pre-b", "pre-b-all", "precursor b", "precursor b-cell",
                  "precursor b-cell all", "b-lineage", "b-cell", "c-all", "common all", "pro-b", "b-precursor",
                  "b-cell precursor", "b-cell precursor all", "b-other"),
        "T-ALL": ("t", "t-all", "t-lineage", "t-cell", "pre-t", "precursor t", "precursor t-cell",
                  "precursor t-cell all", "etp", "etp-all", "t-precursor", "t-cell precursor", "cortical t"),
    },
    "conditioning": {"TBI": ("tbi", "tbi-based", "irradiation", "tbi+chemo", "tbi/chemo", "tbi + chemo"),
                     "chemo": ("chemo", "chemotherapy", "chemo-based", "non-tbi", "no tbi", "chemotherapy-based",
                               "chemo only", "without tbi", "chemotherapy only")},
    "intensity": {"MAC": ("mac", "myeloablative", "ma"),
                  "RIC": ("ric", "reduced", "reduced intensity", "nma", "non-myeloablative", "ric/nma")},
    "atg": {"no": ("no", "n", "0", "false", "none", "without atg", "nein", "no atg"),
            "yes": ("yes", "y", "1", "true", "atg", "with atg", "ja")},
    "donor": {"MSD": ("msd", "sibling", "matched sibling", "mrd", "matched related", "identical sibling"),
              "MUD": ("mud", "matched unrelated", "unrelated", "urd"),
              "MMUD": ("mmud", "mismatched unrelated", "mmurd"),
              "haplo": ("haplo", "haploidentical", "haplo-identical", "mmfd", "haploidentical family")},
    "remission": {"CR": ("cr", "cr1", "cr2", "cr3", "cr4", "cr>2", "complete remission", "remission",
                         "in remission"),
                  "non-CR": ("non-cr", "noncr", "ncr", "no cr", "not in cr", "active disease", "pr", "refractory",
                             "nr", "no remission", "active")},
    "cgvhd_severity": SEVERITY_SYNONYMS,
}

_YES = frozenset({"yes", "y", "1", "true", "ja", "j", "x"})
_NO = frozenset({"no", "n", "0", "false", "nein"})
_NEGATION = frozenset({"no", "non", "not", "without", "ohne", "kein", "keine"})


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-zäöüß>]+", "", text)


def _words(key: str) -> set[str]:
    return set(re.findall(r"[0-9a-zäöüß]+", key))


def _lineage(words: set[str]) -> str | None:
    b, t = words & {"b", "bcp", "c", "preb", "prob"}, words & {"t", "etp", "pret", "tcell"}
    if b and not t:
        return "B-ALL"
    if t and not b:
        return "T-ALL"
    return None


def _conditioning(words: set[str]) -> str | None:
    if words & {"tbi", "irradiation", "radiation"}:
        return "chemo" if words & _NEGATION else "TBI"
    if words & {"chemo", "chemotherapy", "busulfan", "bu", "treosulfan", "treo", "melphalan", "thiotepa"}:
        return "chemo"
    return None


def _intensity(words: set[str]) -> str | None:
    if words & {"ric", "reduced", "nma", "rtc"} or ("myeloablative" in words and words & _NEGATION):
        return "RIC"
    if words & {"mac", "myeloablative"}:
        return "MAC"
    return None


def _donor(words: set[str]) -> str | None:
    if words & {"haplo", "haploidentical", "haploident"}:
        return "haplo"
    if words & {"mmud", "mmurd"} or ("unrelated" in words and words & {"mismatched", "mismatch"}):
        return "MMUD"
    if words & {"mud", "urd", "unrelated"}:
        return "MUD"
    if words & {"msd", "mrd", "sibling", "sib", "related"}:
        return "MSD"
    return None


def _remission(words: set[str]) -> str | None:
    if words & {"pr", "nr", "refractory", "active", "partial", "relapse", "progression"} or \
            (words & _NEGATION and words & {"cr", "remission"}):
        return "non-CR"
    if any(re.fullmatch(r"cr\d?", w) for w in words) or {"complete", "remission"} <= words:
        return "CR"
    return None


def _sex(words: set[str]) -> str | None:
    if words & {"female", "woman", "girl", "weiblich", "frau"}:
        return "female"
    if words & {"male", "man", "boy", "männlich", "maennlich", "mann"}:
        return "male"
    return None


_WORD_RULES: dict[str, Callable[[set[str]], str | None]] = {
    "lineage": _lineage, "conditioning": _conditioning, "intensity": _intensity, "donor": _donor,
    "remission": _remission, "sex": _sex,
}
#: What "yes" means in a column whose name is one of these (normalised), per field: (yes level, no level).
_YES_MEANS: dict[str, dict[str, tuple[str, str]]] = {
    "conditioning": {"tbi": ("TBI", "chemo"), "tbi_yn": ("TBI", "chemo"), "tbi_based": ("TBI", "chemo")},
    "atg": {"atg": ("yes", "no"), "atg_yn": ("yes", "no"), "serotherapy": ("yes", "no")},
    "sex": {"female": ("female", "male"), "male": ("male", "female")},
    "lineage": {"t_all": ("T-ALL", "B-ALL"), "t_lineage": ("T-ALL", "B-ALL"), "b_all": ("B-ALL", "T-ALL")},
    "remission": {"cr": ("CR", "non-CR"), "cr_at_hsct2": ("CR", "non-CR"), "in_cr": ("CR", "non-CR")},
}


def _lookup(field: str) -> dict[str, str]:
    synonyms = LEVEL_SYNONYMS.get(field, {})
    table: dict[str, str] = {}
    for level, words in synonyms.items():
        for word in (*words, level):
            key = value_key(word) or ""
            table[key] = level
            table.setdefault(_compact(key), level)
    return table


#: Fields whose values are read as levels: the standard covariates and the severity of chronic GVHD.
LEVEL_FIELDS: tuple[str, ...] = (*STANDARD_LEVELS, "cgvhd_severity")
_LOOKUPS = {field: _lookup(field) for field in LEVEL_FIELDS}


def standard_level(field: str, key: str | None, column: str | None = None) -> str | None:
    """The standard level of ``field`` that a value (its :func:`value_key`) means, or None.

    ``column`` is the user's column name: with ``tbi`` a "yes" means TBI.
    """
    if key is None or field not in _LOOKUPS or len(key) > 80:
        return None
    table = _LOOKUPS[field]
    found = table.get(key) or table.get(_compact(key))
    if found is None and field in _WORD_RULES:
        found = _WORD_RULES[field](_words(key))
    if found is None and column is not None:
        meaning = _YES_MEANS.get(field, {}).get(normalise_name(column))
        if meaning is not None and key in _YES | _NO:
            found = meaning[0] if key in _YES else meaning[1]
    return found


def is_assumption(key: str, level: str) -> bool:
    """A reading other than the level's own name (``"b-all"`` → B-ALL is not one, ``"bcp"`` → B-ALL is)."""
    return value_key(level) != key


def level_assumptions(frame: pd.DataFrame, columns: dict[str, str],
                      level_values: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Every value read as a standard level other than by its own name, for the user to confirm.

    Parameters
    ----------
    frame
        The user's table.
    columns, level_values
        ``{field: user column}`` and ``{field: {value key: level}}`` of a mapping.

    Returns
    -------
    DataFrame
        ``field``, ``covariate`` (its label), ``column``, ``value`` (as written
        in the file), ``level``, ``rows`` (how many rows hold it).
    """
    rows = []
    for field, maps in level_values.items():
        column = columns.get(field)
        if column is None or column not in frame.columns:
            continue
        keys = value_keys(frame[column])
        for key, level in maps.items():
            held = keys == key
            if not is_assumption(key, level) or not held.any():
                continue
            rows.append({"field": field, "covariate": label(field), "column": column,
                         "value": str(frame[column][held].iloc[0]).strip(), "level": level,
                         "rows": int(held.sum())})
    return pd.DataFrame(rows, columns=["field", "covariate", "column", "value", "level", "rows"])
