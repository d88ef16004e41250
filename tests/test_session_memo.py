"""ui.cache.session_memo: this session's recent results, dropped when the active data change."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script():
    """Memoise a value keyed on ``st.session_state["key"]``; ``new_data`` makes an upload active first."""
    import pandas as pd
    import streamlit as st

    from ui.cache import session_memo
    from ui.state import clear_active_data, set_active_data

    builds = st.session_state.setdefault("builds", [])
    if st.session_state.pop("new_data", False):
        set_active_data(pd.DataFrame({"x": [1]}), name="upload.csv", n_excluded=0)
    if st.session_state.pop("demo_again", False):
        clear_active_data()
    key = st.session_state.get("key", 0)

    def build():
        builds.append(key)
        return f"value {key}"

    st.write(session_memo("test", (key,), build, size=2))


def _run(at: AppTest, **state) -> AppTest:
    for name, value in state.items():
        at.session_state[name] = value
    return at.run()


def test_a_key_is_built_once_and_its_value_returned():
    at = AppTest.from_function(_script).run()
    _run(at, key=1)
    _run(at, key=0)
    _run(at, key=1)
    assert at.session_state["builds"] == [0, 1]
    assert at.markdown[0].value == "value 1"


def test_only_the_last_size_results_are_kept():
    at = AppTest.from_function(_script).run()
    for key in (1, 2, 0):  # size 2: key 0, built first, was dropped for key 2
        _run(at, key=key)
    assert at.session_state["builds"] == [0, 1, 2, 0]


def test_new_data_drop_the_results():
    at = AppTest.from_function(_script).run()
    _run(at, new_data=True)
    _run(at, demo_again=True)
    assert at.session_state["builds"] == [0, 0, 0]
    _run(at)
    assert at.session_state["builds"] == [0, 0, 0]


def test_each_session_has_its_own_results():
    first = AppTest.from_function(_script).run()
    second = AppTest.from_function(_script).run()
    assert first.session_state["builds"] == second.session_state["builds"] == [0]


def _memo_keys(at: AppTest, name: str) -> list[tuple]:
    return list(at.session_state["_session_memo"][name])


def test_survival_figure_options_reuse_the_estimates(open_app):
    at = open_app("survival")
    assert len(_memo_keys(at, "survival")) == 1
    at.radio(key="survival.unit").set_value("years").run()
    at.checkbox(key="survival.band").uncheck().run()
    at.multiselect(key="survival.times").set_value(["6"]).run()
    assert len(_memo_keys(at, "survival")) == 1
    at.selectbox(key="survival.compare").set_value("lineage").run()
    at.selectbox(key="survival.test").set_value("fh10").run()
    assert len(_memo_keys(at, "survival")) == 3


def test_relapse_controls_below_the_estimates_reuse_them(open_app):
    at = open_app("relapse")
    at.multiselect(key="relapse.times").set_value(["6"]).run()
    at.session_state["relapse.cause"] = "Non-relapse mortality"  # another tab draws from the same estimates
    at.run()
    at.session_state["relapse.section"] = "Relapse timing"
    at.run()
    at.radio(key="relapse.bin").set_value(2).run()
    at.session_state["relapse.section"] = "Patient states"
    at.run()
    assert len(_memo_keys(at, "relapse")) == 1
    assert len(_memo_keys(at, "relapse.figures")) == 3  # each figure made once, when its tab first opened
    at.multiselect(key="flt_lineage").set_value(["T-ALL"]).run()
    assert len(_memo_keys(at, "relapse")) == 2
