"""The explorer page: Bokeh widgets and figures, one CustomJS callback (``explorer.js``), all of BokehJS inline.

Bokeh was chosen over Plotly and Vega-Altair because it has the widgets the page needs (select, multi-choice,
slider) with JavaScript callbacks that can recompute metrics from stored arrays, and writes one self-contained
HTML file with its library inline (``resources=INLINE``): no server, no network, opens from the file system.
"""

from __future__ import annotations

import html
from pathlib import Path

from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.events import DocumentReady
from bokeh.layouts import column, row
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    DatetimeTickFormatter,
    Div,
    MultiChoice,
    NumeralTickFormatter,
    Range1d,
    Select,
    Slider,
    Span,
)
from bokeh.palettes import Category10_10, Category20_20
from bokeh.plotting import figure
from bokeh.resources import INLINE

from anomalylab.errors import InputError
from anomalylab.paths import atomic_path

JS = (Path(__file__).with_name("explorer.js")).read_text()
STYLE = """<style>
.sum, .cm {border-collapse: collapse; font-size: 12px; margin-top: 4px}
.sum td, .sum th, .cm td, .cm th {border: 1px solid #bbb; padding: 2px 6px; text-align: left}
</style>"""


INTRO = ("Pick a dataset and models; move the threshold of one model and watch what it flags. Precision, recall, F1, "
         "F2 and the confusion matrix are computed in this page from the stored test scores. Each summary row says "
         "its <b>kind</b>: <b>ours</b> (threshold chosen without test labels), <b>protocol</b> (a rule that reads "
         "the test split) or <b>published</b>; ★ marks the best <b>ours</b> row of the summary.")
SERIES_TITLE = "series (test rows): labelled anomalies and flags"


def build_page(entries: list[dict], notes: dict[str, str], title: str = "anomalylab results explorer",
               intro: str = INTRO, series_title: str = SERIES_TITLE) -> str:
    """The page's HTML for ``entries`` (:func:`anomalylab.explorer.data.entries`); ``intro`` (HTML) and
    ``series_title`` say what the page shows."""
    if not entries:
        raise InputError("no entries to show; the score files hold nothing.")
    payload = {"entries": entries, "notes": notes}  # numpy arrays reach BokehJS as binary typed arrays
    first = entries[0]
    groups: dict[str, list] = {}
    for e in entries:  # the list grouped by benchmark, in the entries' order
        groups.setdefault(e.get("group", "results"), []).append((e["key"], e["title"]))
    dataset = Select(title="dataset", value=first["key"], options=groups, name="dataset", width=420)
    models = MultiChoice(title="models (curves and summary rows)", value=[], options=[], name="models", width=520)
    focus = Select(title="model whose threshold moves", value="", options=[], name="focus", width=300)
    slider = Slider(title="threshold", start=0, end=1, step=1, value=0, show_value=False, name="threshold",
                    width=900)  # fmt: skip
    info, metrics, summary = (Div(text="", name=n, width=900) for n in ("info", "metrics", "summary"))

    series_src, flag_src, score_src = (ColumnDataSource({"x": [], "y": []}) for _ in range(3))
    label_src = ColumnDataSource({"left": [], "right": [], "bottom": [], "top": []})
    series_fig = figure(height=260, width=900, title=series_title,
                        tools="xpan,xwheel_zoom,box_zoom,reset", name="series_fig")  # fmt: skip
    series_fig.quad(left="left", right="right", bottom="bottom", top="top", source=label_src, color="#d62728",
                    alpha=0.25, line_width=0, legend_label="labelled anomaly (runs shaded)")  # fmt: skip
    series_fig.line("x", "y", source=series_src, color="#555", line_width=1, legend_label="value")
    series_fig.scatter("x", "y", source=flag_src, size=6, marker="x", color="#1f77b4", line_width=2,
                       legend_label="flagged")  # fmt: skip
    series_fig.legend.orientation = "horizontal"
    series_fig.add_layout(series_fig.legend[0], "above")  # above the plot: never over the data
    score_fig = figure(height=170, width=900, title="score of the chosen model (axis cut at the 99.5th percentile)",
                       x_range=series_fig.x_range, y_range=Range1d(0, 1), tools="xpan,xwheel_zoom,box_zoom,reset",
                       name="score_fig")  # fmt: skip
    score_fig.line("x", "y", source=score_src, color="#1f77b4", line_width=1)
    threshold_span = Span(location=0, dimension="width", line_color="#ff7f0e", line_dash="dashed", line_width=2)
    score_fig.add_layout(threshold_span)

    hist_src = ColumnDataSource({"left": [], "right": [], "top": [], "bottom": [], "cls": [], "colour": []})
    hist_fig = figure(height=320, width=900, y_axis_type="log", title="test scores of the chosen model, by class",
                      tools="xpan,xwheel_zoom,box_zoom,reset", name="hist_fig")  # fmt: skip
    hist_fig.quad(left="left", right="right", top="top", bottom="bottom", source=hist_src, fill_color="colour",
                  line_color="colour", fill_alpha=0.35, legend_field="cls")  # fmt: skip
    hist_span = Span(location=0, dimension="height", line_color="#ff7f0e", line_dash="dashed", line_width=2)
    hist_fig.add_layout(hist_span)
    hist_fig.add_layout(hist_fig.legend[0], "right")  # beside the plot, never over a bar

    roc_src, pr_src = (ColumnDataSource({"xs": [], "ys": [], "model": [], "colour": []}) for _ in range(2))
    roc_fig = figure(height=330, width=370, title="ROC (test rows; colours as in the legend at right)",
                     x_range=(0, 1), y_range=(0, 1.02),
                     x_axis_label="false positive rate", y_axis_label="true positive rate", name="roc_fig")
    roc_fig.multi_line("xs", "ys", source=roc_src, color="colour", line_width=2)
    pr_fig = figure(height=400, width=610, title="precision-recall (test rows)", x_range=(0, 1), y_range=(0, 1.02),
                    x_axis_label="recall", y_axis_label="precision", name="pr_fig")
    pr_fig.multi_line("xs", "ys", source=pr_src, color="colour", line_width=2, legend_field="model")
    legend = pr_fig.legend[0]  # one legend for both curves, right of the PR plot: never over a curve
    legend.label_text_font_size = "9px"
    legend.glyph_height = legend.label_height = 14
    legend.spacing = 0
    pr_fig.add_layout(legend, "right")
    roc_fig.height = pr_fig.height

    args = dict(
        payload=payload, dataset=dataset, models=models, focus=focus, slider=slider, info=info, metrics=metrics,
        summary=summary, series_fig=series_fig, score_fig=score_fig, hist_fig=hist_fig, series_src=series_src,
        label_src=label_src, flag_src=flag_src, score_src=score_src, hist_src=hist_src, roc_src=roc_src,
        pr_src=pr_src, threshold_span=threshold_span, hist_span=hist_span, series_axis=series_fig.xaxis[0],
        score_axis=score_fig.xaxis[0], score_range=score_fig.y_range, time_format=DatetimeTickFormatter(),
        number_format=NumeralTickFormatter(),
        palette=list(Category10_10), palette20=list(Category20_20), roc_fig=roc_fig, pr_fig=pr_fig,
    )

    main = CustomJS(args=args, code=JS)  # the data travel once, with this one model

    def callback(which: str) -> CustomJS:
        return CustomJS(args={"main": main}, code=f"main.execute(cb_obj, {{which: {which!r}}});")

    dataset.js_on_change("value", callback("dataset"))
    models.js_on_change("value", callback("models"))
    focus.js_on_change("value", callback("focus"))
    slider.js_on_change("value", callback("threshold"))

    header = Div(text=f"<h2>{html.escape(title)}</h2><p>{intro}</p>{STYLE}", width=900)
    layout = column(header, row(dataset, focus), models, info, slider, metrics, series_fig, score_fig, hist_fig,
                    row(roc_fig, pr_fig), summary)
    doc = Document()
    doc.add_root(layout)
    doc.js_on_event(DocumentReady, callback("init"))
    return file_html(doc, resources=INLINE, title=title)


def write_page(html_text: str, out: Path) -> Path:
    """Write the page atomically."""
    with atomic_path(Path(out)) as tmp:
        tmp.write_text(html_text)
    return Path(out)
