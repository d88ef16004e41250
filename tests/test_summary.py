"""Cohort counts and Table 1."""

from __future__ import annotations

from analysis.cohort.summary import cohort_summary, table_one


def test_summary_counts_match_the_data(demo_cohort):
    summary = cohort_summary(demo_cohort)
    assert summary["n"] == len(demo_cohort)
    assert summary["deaths"] == int(demo_cohort["death"].sum())
    assert summary["relapses"] == int(demo_cohort["relapse"].sum())
    assert summary["levels"]["lineage"] == demo_cohort["lineage"].value_counts().reindex(["B-ALL", "T-ALL"]).to_dict()
    assert sum(summary["levels"]["donor"].values()) == len(demo_cohort)


def test_summary_counts_unknown_levels(demo_cohort):
    cohort = demo_cohort.copy()
    cohort.loc[:4, "sex"] = None
    assert cohort_summary(cohort)["levels"]["sex"]["unknown"] == 5


def test_table_one_split_has_a_column_per_level(demo_cohort):
    table = table_one(demo_cohort, by="lineage")
    n_b = int((demo_cohort["lineage"] == "B-ALL").sum())
    assert list(table.columns) == ["Characteristic", f"All (n = {len(demo_cohort)})", f"B-ALL (n = {n_b})",
                                   f"T-ALL (n = {len(demo_cohort) - n_b})"]
    male = table[table["Characteristic"].str.strip() == "male"].iloc[0]
    n_male = int((demo_cohort["sex"] == "male").sum())
    assert male.iloc[1] == f"{n_male} ({100 * n_male / len(demo_cohort):.0f} %)"
    assert not table["Characteristic"].str.startswith("Lineage").any()  # the split factor is the columns
