// The results explorer's one callback: `cb_data.which` names what changed (init, dataset, models, focus, threshold).
// Everything it shows is computed here from the stored test scores: flags where score >= threshold.
const E = window.__anomalylab_explorer || (window.__anomalylab_explorer = {data: plain(payload), busy: false});

function plain(v) {
  if (v instanceof Map) {
    const o = {};
    for (const [k, x] of v) o[k] = plain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function fmt(x, digits = 4) {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(digits) : x.toFixed(digits);
}

function escapeHtml(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function entryOf(key) {
  return E.data.entries.find((e) => e.key === key);
}

function thresholdsOf(m) {
  const s = Array.from(m.score).filter(Number.isFinite);
  if (Number.isFinite(m.threshold)) s.push(m.threshold);
  s.sort((a, b) => a - b);
  return s.filter((x, i) => i === 0 || x !== s[i - 1]);
}

function counts(entry, m, thr) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < m.score.length; i++) {
    const s = m.score[i];
    if (!Number.isFinite(s)) continue;
    const flag = s >= thr, y = entry.labels[i] === 1;
    if (flag && y) tp++; else if (flag) fp++; else if (y) fn++; else tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
  const f2 = tp ? (5 * tp) / (5 * tp + 4 * fn + fp) : 0;
  return {tp, fp, fn, tn, precision, recall, f1, f2};
}

function colourOf(name) {
  const names = Object.keys(E.entry.models);
  const colours = names.length > palette.length ? palette20 : palette; // past ten models: twenty colours
  return colours[names.indexOf(name) % colours.length];
}

function showDataset() {
  E.entry = entryOf(dataset.value);
  const names = Object.keys(E.entry.models);
  const ours = names.filter((n) => E.entry.models[n].kind === "ours");
  models.options = names.map((n) => [n, escapeHtml(n)]); // the multi-choice list renders its labels as HTML
  models.value = (ours.length ? ours : names).slice(0, 3);
  const isSeries = E.entry.kind === "series";
  const labelled = E.entry.has_labels !== false; // a user's own series (detect --explorer) has no labels
  roc_fig.visible = labelled;
  pr_fig.visible = labelled;
  series_fig.visible = isSeries;
  score_fig.visible = isSeries;
  hist_fig.visible = !isSeries;
  if (isSeries) {
    const e = E.entry;
    series_axis.formatter = e.x_is_time ? time_format : number_format;
    score_axis.formatter = e.x_is_time ? time_format : number_format;
    series_src.data = {x: Array.from(e.x), y: Array.from(e.value)};
    let lo = Infinity, hi = -Infinity;
    for (const v of e.value) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const steps = [];
    for (let i = 1; i < e.x.length; i++) steps.push(e.x[i] - e.x[i - 1]);
    steps.sort((a, b) => a - b);
    const half = (steps.length ? steps[Math.floor(steps.length / 2)] : 1) / 2;
    const q = {left: [], right: [], bottom: [], top: []};
    for (let i = 0; i < e.labels.length; i++) {
      if (e.labels[i] !== 1 || (i > 0 && e.labels[i - 1] === 1)) continue;
      let j = i;
      while (j + 1 < e.labels.length && e.labels[j + 1] === 1) j++;
      q.left.push(e.x[i] - half); q.right.push(e.x[j] + half); q.bottom.push(lo); q.top.push(hi);
    }
    label_src.data = q;
  }
  const note = escapeHtml(E.data.notes[E.entry.key.split("/")[0]] || "");
  info.text = labelled
    ? `<b>${escapeHtml(E.entry.title)}</b>: ${E.entry.labels.length.toLocaleString("en")} test rows, ` +
      `${E.entry.labels.reduce((a, b) => a + b, 0)} labelled anomalous. ${note}`
    : `<b>${escapeHtml(E.entry.title)}</b>: ${E.entry.labels.length.toLocaleString("en")} rows with a score. ${note}`;
}

function showModels() {
  const chosen = models.value.filter((n) => n in E.entry.models);
  focus.options = chosen;
  if (!chosen.includes(focus.value)) focus.value = chosen[0] || "";
  const roc = {xs: [], ys: [], model: [], colour: []}, pr = {xs: [], ys: [], model: [], colour: []};
  let rows = "";
  for (const name of chosen) {
    const m = E.entry.models[name];
    roc.xs.push(m.roc[0]); roc.ys.push(m.roc[1]); roc.model.push(name); roc.colour.push(colourOf(name));
    pr.xs.push(m.pr[0]); pr.ys.push(m.pr[1]); pr.model.push(name); pr.colour.push(colourOf(name));
    for (const cells of m.summary) rows += `<tr><td>${escapeHtml(name)}</td>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  }
  roc_src.data = roc;
  pr_src.data = pr;
  summary.text = E.entry.has_labels === false ? "" : rows
    ? `<b>Summary rows</b> (${escapeHtml(E.entry.summary_title)}):<table class="sum"><tr><th>model</th><th>threshold rule</th><th>kind</th><th>headline (mean ± 95 % CI)</th><th>runs</th></tr>${rows}</table>`
    : "<i>no summary rows for these models</i>";
}

function showFocus() {
  const m = E.entry.models[focus.value];
  if (!m) return;
  E.thresholds = thresholdsOf(m);
  const start = E.thresholds.indexOf(m.threshold);
  slider.end = Math.max(E.thresholds.length - 1, 1);
  slider.value = start >= 0 ? start : 0;
  if (E.entry.kind === "series") {
    score_src.data = {x: Array.from(E.entry.x), y: Array.from(m.score)};
    const t = E.thresholds, top = Math.max(t[Math.floor(0.995 * (t.length - 1))], m.threshold);
    const bottom = Math.min(t[0], 0);
    score_range.start = bottom;
    score_range.end = top + 0.15 * (top - bottom || 1);
  } else {
    const h = m.hist, q = {left: [], right: [], top: [], bottom: [], cls: [], colour: []};
    Object.keys(h.counts).forEach((cls, j) => {
      h.counts[cls].forEach((c, i) => {
        if (c > 0) {
          q.left.push(h.edges[i]); q.right.push(h.edges[i + 1]); q.top.push(c); q.bottom.push(0.5);
          q.cls.push(cls); q.colour.push(palette[j % palette.length]);
        }
      });
    });
    hist_src.data = q;
  }
}

function showThreshold() {
  const m = E.entry.models[focus.value];
  if (!m) return;
  const k = Math.min(Math.max(Math.round(slider.value), 0), E.thresholds.length - 1);
  const thr = E.thresholds[k];
  const c = counts(E.entry, m, thr);
  slider.title = `threshold of ${focus.value}: ${fmt(thr, 6)}` + (thr === m.threshold ? ` (its own, ${m.rule})` : "");
  threshold_span.location = thr;
  hist_span.location = thr;
  if (E.entry.kind === "series") {
    const fx = [], fy = [];
    for (let i = 0; i < m.score.length; i++) if (m.score[i] >= thr) { fx.push(E.entry.x[i]); fy.push(E.entry.value[i]); }
    flag_src.data = {x: fx, y: fy};
  }
  const seed = m.seed === null ? "deterministic" : `seed ${m.seed}`;
  if (E.entry.has_labels === false) {
    const flagged = c.tp + c.fp, rows = flagged + c.fn + c.tn;
    metrics.text =
      `<div class="met" data-threshold="${thr}"><b>${escapeHtml(focus.value)}</b> (its own threshold ` +
      `${fmt(m.threshold, 6)}: ${escapeHtml(m.rule)})<br>at threshold <span id="thr">${fmt(thr, 6)}</span>: ` +
      `<span id="flagged">${flagged}</span> of <span id="rows">${rows}</span> rows flagged ` +
      `(${fmt(rows ? (100 * flagged) / rows : 0, 2)} %). <small>No labels: what is flagged, not how right it is.` +
      `</small></div>`;
    return;
  }
  metrics.text =
    `<div class="met" data-threshold="${thr}"><b>${escapeHtml(focus.value)}</b> (${seed}; its own threshold ` +
    `${fmt(m.threshold, 6)} from rule <code>${escapeHtml(m.rule)}</code>, kind <b>${escapeHtml(m.kind)}</b>)<br>` +
    `at threshold <span id="thr">${fmt(thr, 6)}</span>: precision <span id="precision">${fmt(c.precision)}</span>, ` +
    `recall <span id="recall">${fmt(c.recall)}</span>, F1 <span id="f1">${fmt(c.f1)}</span>, ` +
    `F2 <span id="f2">${fmt(c.f2)}</span>` +
    `<table class="cm"><tr><td></td><th>flagged</th><th>not flagged</th></tr>` +
    `<tr><th>anomalous</th><td id="tp">${c.tp}</td><td id="fn">${c.fn}</td></tr>` +
    `<tr><th>normal</th><td id="fp">${c.fp}</td><td id="tn">${c.tn}</td></tr></table>` +
    `<small>kind of these numbers: computed here from the stored test scores at the slider's threshold; ` +
    `only a threshold from a rule that reads no test label gives an <b>ours</b> number.</small></div>`;
}

const which = cb_data.which;
if (!E.busy) {
  E.busy = true;
  try {
    if (which === "init" || which === "dataset") { showDataset(); showModels(); showFocus(); }
    else if (which === "models") { showModels(); showFocus(); }
    else if (which === "focus") { showFocus(); }
    showThreshold();
  } finally {
    E.busy = false;
  }
}
