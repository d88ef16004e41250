"""The Streamlit side of the dashboard, split by concern; pages and the frame import from here.

* :mod:`ui.state`: this session's active data and the :class:`~ui.state.View` every page reads;
* :mod:`ui.sidebar`: the frame's filters and saved cohorts, and their round trip through the link;
* :mod:`ui.links`: page controls kept in the share link, and notices about what a link asked for;
* :mod:`ui.controls`: controls shared by pages ("Compare by", landmarks, the empty-cohort stop);
* :mod:`ui.model_controls`: endpoint, covariates and how each enters a model;
* :mod:`ui.figures`: how a figure is shown and exported from a page;
* :mod:`ui.cache`: the one shared cache (the public published targets) and this session's memo;
* :mod:`ui.upload`, :mod:`ui.mapping_form`: the Data page's upload and mapping form.

Nothing here computes a statistic: every number comes from :mod:`analysis`.

Tests: ``tests/conftest.py`` has the ``open_app`` fixture
(``at = open_app("survival", query={"lineage": "T-ALL"})``) that opens the
frame and switches to a page; it also pins the server's ``st.navigation``
behaviour, without which AppTest would run a page without its frame.
Page widget keys are ``<url_path>.<control>`` with url paths ``overview``,
``survival``, ``relapse``, ``risk_factors`` and ``data``.
"""
