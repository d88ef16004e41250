"""What leaves the dashboard: captions, tables as files, the methods in words, and the report pack.

* :mod:`analysis.reports.caption`: the caption every figure can carry (:class:`FigureCaption`, :func:`with_caption`);
* :mod:`analysis.reports.tables`: tables as CSV and XLSX, neutralised against formula injection;
* :mod:`analysis.reports.methods`: the methods paragraph, written from what was computed;
* :mod:`analysis.reports.pack`: the figures and tables of a view (:func:`build_report`);
* :mod:`analysis.reports.pptx`, :mod:`analysis.reports.html`: the pack as a PowerPoint deck and as an
  offline HTML file.
"""
