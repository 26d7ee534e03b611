// The race page's main chart (see viz/common/chart.py).  Plotly's basic bundle (viz/common/plotly_loader.js,
// which runs just before this code) draws the figure spec built in Python (viz.race.figures).  A
// click on a point of the figure sends its (x, y) back to Python as the trigger value "click".
//
// Updating a drawn figure.  Plotly.react redraws every subplot whenever any trace's numbers
// change (~110 ms for the default page here).  Moving one learning rate changes one run: its
// path, its marker in the heads' and the crosses' traces (a marker a run each), its side-plot
// curves, their names, frames, and maybe the side plots' y ranges.
// For such an update (see plan()) Plotly.animate with redraw: false re-plots only those traces
// (~45-60 ms on the page, most of it Plotly's per-trace bookkeeping, done for every trace), new
// ranges go through Plotly.relayout, and the frames are replaced by name.  New steps change
// every run and the frames' names (steps), the animation's slider and Play button: the same
// quick path, with the old frames deleted and the slider and buttons relaid out (~20 ms sooner
// on the page than Plotly.react).
// Anything else (another layout, other traces, or the person has played or scrubbed the
// animation, so the other runs show some earlier step) goes through Plotly.react.
//
// The legend is HTML above the plot (drawLegend), not Plotly's: a run's name shows its learning
// rate, and Plotly redraws its legend only through a restyle (~40 ms on the page).  A click on
// an item hides or shows that run (all its traces), a double click shows it alone, like
// Plotly's.  (The HTML export keeps Plotly's own legend.)

// What a trace may change on the quick path: its numbers, name and hover text.
const DATA_KEYS = new Set(["x", "y", "customdata", "name", "hovertemplate"]);

function omit(obj, keys) {  // a copy of obj without keys
  const out = Object.assign({}, obj);
  for (const k of keys) delete out[k];
  return out;
}

function without(obj, drop) {  // a JSON key of obj with its keys in drop left out
  return JSON.stringify(omit(obj, drop));
}

// Layout keys a quick update may change through Plotly.relayout, each redrawn alone: the
// animation's buttons and slider (new steps: new frame names) and the landscape's picture and
// its uirevision (a new landscape parameter: the axes go back to the figure's ranges, as
// Plotly.react does for a new uirevision).  Any other layout change goes through Plotly.react.
const REDRAWN_ALONE = new Set(["updatemenus", "sliders", "images", "uirevision"]);

// A trace's skeleton without its colour bar (a new landscape parameter changes the landscape's
// colour bar ticks alone: viz.race.figures puts the bar on 0..1): such a trace's bar is restyled
// (Plotly redraws the colour bars alone).
function bareSkeleton(t) {
  const rest = omit(t, DATA_KEYS);
  if (rest.marker && rest.marker.colorbar) rest.marker = omit(rest.marker, ["colorbar"]);
  return JSON.stringify(rest) + "|" + Object.keys(t).sort().join(",");
}

// Keys of a spec to compare the next one with (taken before Plotly sees the spec: Plotly
// writes computed values into the objects it is given).
function keysOf(spec) {
  const layout = spec.layout || {};
  const ranges = {};
  const axes = {};
  const alone = {};
  for (const k of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(k) && layout[k] && layout[k].range) {
      ranges[k] = layout[k].range;
      axes[k] = without(layout[k], new Set(["range"]));
    } else if (REDRAWN_ALONE.has(k)) alone[k] = JSON.stringify(layout[k]);
    else axes[k] = JSON.stringify(layout[k]);
  }
  const frames = spec.frames || [];
  const skeletons = spec.data.map((t) => without(t, DATA_KEYS) + "|" + Object.keys(t).sort().join(","));
  return {
    layout: JSON.stringify(axes),
    ranges,
    alone,
    traces: spec.data.map((t) => JSON.stringify(t)),
    skeletons,
    bare: spec.data.map((t, j) => (t.marker && t.marker.colorbar ? bareSkeleton(t) : skeletons[j])),
    // (the frames are replaced whole: which traces each names may change, e.g. the crosses'
    // trace is named only while a run diverges, their number may not)
    frames: frames.length,
    names: frames.map((f) => f.name).join(";"),
  };
}

// The quick update from prev to next, or null for Plotly.react: {traces: those whose numbers
// changed, bars: those whose colour bar changed (alone), ranges: the axes' new ranges, alone:
// the REDRAWN_ALONE keys that changed, names: whether the frames' names changed}.
function plan(prev, next) {
  if (!prev || prev.layout !== next.layout || prev.frames !== next.frames ||
      prev.traces.length !== next.traces.length ||
      Object.keys(prev.alone).join() !== Object.keys(next.alone).join()) return null;
  const changed = [], bars = [];
  for (let j = 0; j < next.traces.length; j++) {
    if (next.traces[j] === prev.traces[j]) continue;
    if (next.skeletons[j] !== prev.skeletons[j]) {
      if (next.bare[j] !== prev.bare[j]) return null;
      bars.push(j);  // (its colour bar: restyled; its numbers too, if they changed)
      if (JSON.stringify(omit(JSON.parse(next.traces[j]), ["marker"])) ===
          JSON.stringify(omit(JSON.parse(prev.traces[j]), ["marker"]))) continue;
    }
    changed.push(j);
  }
  // Plotly.animate puts the SVG groups of the traces it re-plots in their order (d3's order()),
  // which moves any trace between two of them in front of them (a new start re-plots the runs
  // and the start marker: the minimum's star went under the paths): re-plot one unbroken range.
  const traces = [];
  for (let j = changed[0]; changed.length && j <= changed[changed.length - 1]; j++) traces.push(j);
  const ranges = {};
  const anew = next.alone.uirevision !== prev.alone.uirevision;  // (the person's zoom is let go)
  for (const k of Object.keys(next.ranges)) {
    if (anew || JSON.stringify(next.ranges[k]) !== JSON.stringify(prev.ranges[k])) ranges[k + ".range"] = next.ranges[k];
  }
  const alone = Object.keys(next.alone).filter((k) => next.alone[k] !== prev.alone[k]);
  return { traces, bars, ranges, alone, names: prev.names !== next.names };
}

function quick(Plotly, gd, spec, step) {
  const data = step.traces.map((j) => {
    const t = {};
    for (const k of DATA_KEYS) if (k in spec.data[j]) t[k] = spec.data[j][k];
    return t;
  });
  const frames = spec.frames || [];  // as many as before (plan)
  // New names: the old frames go first (else they stay).  One at a time: Plotly.deleteFrames
  // sorts the indices it is given as strings and so skips some when given more than ten.
  if (step.names) for (let k = 0; k < frames.length; k++) Plotly.deleteFrames(gd, [0]);
  Plotly.addFrames(gd, frames);  // same names: replaced
  const changes = {};
  for (const [k, range] of Object.entries(step.ranges)) {  // (one the axis has already: not redrawn)
    const axis = gd.layout && gd.layout[k.slice(0, -".range".length)];
    if (!axis || JSON.stringify(axis.range) !== JSON.stringify(range)) changes[k] = range;
  }
  for (const k of step.alone) changes[k] = spec.layout[k];
  // (a colour bar alone: Plotly redraws the colour bars, not the plot; Plotly.update of the two
  // took longer here)
  const bars = () => Promise.all(step.bars.map((j) => {
    const bar = spec.data[j].marker.colorbar, update = {};
    for (const k of Object.keys(bar)) update["marker.colorbar." + k] = [bar[k]];
    return Plotly.restyle(gd, update, [j]);
  }));
  const relayout = () => Promise.resolve(Object.keys(changes).length && Plotly.relayout(gd, changes)).then(bars);
  if (!step.traces.length) return Promise.resolve().then(relayout);
  // Plotly.animate re-plots the traces in the next animation frame (in the promise callbacks
  // that follow its "plotly_transitioning" event) and resolves its promise a task later; the
  // update is drawn when the re-plot is done.
  const replotted = new Promise((resolve) => {
    gd.once("plotly_transitioning", () => Promise.resolve().then(() => Promise.resolve()).then(resolve));
  });
  const moved = Plotly.animate(gd, { data, traces: step.traces },
                               { frame: { duration: 0, redraw: false }, transition: { duration: 0 },
                                 mode: "immediate" });
  return Promise.race([replotted, moved]).then(relayout);
}

// --- Plotly's per-update cost ----------------------------------------------------------------
// Plotly.animate recomputes every trace's calcdata, and with it findArrayAttributes (a walk of
// the trace type's whole attribute schema): ~0.6 ms per trace, ~25 ms of a one-run update here
// for the 44 traces of the default figure, 39 of which did not change.  Its answer (the names of
// the trace's array attributes, which Plotly reads for hover and click data) depends only on
// the trace as given, and Plotly keeps an unchanged trace's object across updates: remember
// the answer per given trace object.  A figure drawn anew (Plotly.react: a first load, another
// landscape or scene) gives every trace as a new object: ~0.5 ms each, ~26 ms for 46 traces here
// for 46 traces.  Its answer depends on what the trace is made of, not on its numbers: which
// attributes hold arrays, and the values that decide which attributes Plotly fills in (the
// type, the mode, visible, ...): remember it by that shape too (8 runs' paths share one).

// Keys whose values are free text, a colour or numbers (bdata: a typed array's bytes): they decide
// no attribute (arrays among them, e.g. per-point colours, still count as arrays).
const FREE_TEXT = new Set(["name", "hovertemplate", "legendgroup", "uid", "meta", "color", "text", "bdata",
                           "hovertext", "texttemplate", "title"]);

function shapeOf(v, key) {  // the shape of a given trace's value: what its array attributes depend on
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {  // (objects in an array: e.g. a colour bar's stops)
    const first = v[0];
    const objects = first && typeof first === "object" && !Array.isArray(first) && !ArrayBuffer.isView(first);
    return objects ? "[" + Array.from(v, (item) => shapeOf(item, "")).join(",") + "]" : "A";
  }
  if (v && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => k + ":" + shapeOf(v[k], k)).join(",") + "}";
  }
  if (typeof v === "string" || typeof v === "boolean") return FREE_TEXT.has(key) ? "s" : JSON.stringify(v);
  return "n";  // numbers, null: they decide no attribute
}

const SHAPES_KEPT = 500;  // distinct trace shapes remembered (a page has a few dozen)

function rememberArrayAttributes(Plotly) {
  const schema = Plotly.PlotSchema;
  if (!schema || schema.__lleRemembers || typeof schema.findArrayAttributes !== "function") return;
  const find = schema.findArrayAttributes;
  const known = new WeakMap();  // given trace object -> its array attributes
  const byShape = new Map();  // shapeOf(given trace) -> its array attributes
  schema.findArrayAttributes = function (trace) {
    const given = trace && trace._input;
    if (!given || typeof given !== "object") return find.call(this, trace);
    let attrs = known.get(given);
    if (!attrs) {
      const shape = shapeOf(given, "");
      attrs = byShape.get(shape);
      if (!attrs) {
        attrs = find.call(this, trace);
        if (byShape.size >= SHAPES_KEPT) byShape.clear();
        byShape.set(shape, attrs);
      }
      known.set(given, attrs);
    }
    return attrs;
  };
  schema.findArrayAttributes.__lleOriginal = find;  // (the tests compare the two)
  schema.__lleRemembers = true;
}

// --- patches -------------------------------------------------------------------------------
// Python sends the whole figure, or a patch from the figure it sent before (viz.common.chart.patch:
// changed traces, frame entries, the layout).  gd.__llePristine keeps the last figure as Python
// sent it ({rev, spec}); Plotly gets a copy (it writes into the objects it is given).

function applyPatch(spec, patch) {
  const data = spec.data.slice();
  for (const [j, t] of Object.entries(patch.data || {})) data[+j] = t;
  const frames = (spec.frames || []).slice();
  for (const [k, entries] of Object.entries(patch.frames || {})) {
    const f = Object.assign({}, frames[+k]);
    f.data = f.data.slice();
    for (const [m, e] of Object.entries(entries)) f.data[+m] = e;
    frames[+k] = f;
  }
  const out = Object.assign({}, spec, { data }, spec.frames ? { frames } : {},
                            "layout" in patch ? { layout: patch.layout } : {});
  if ((patch.runs && Object.keys(patch.runs).length) || patch.frame_traces || patch.frame_marks ||
      patch.run_count !== undefined) {
    // (a run added or removed: run_count says how many there are now, runs has the new ones)
    const runs = spec.lle_frames.runs.slice(0, patch.run_count === undefined ? undefined : patch.run_count);
    for (const [i, r] of Object.entries(patch.runs || {})) runs[+i] = r;
    out.lle_frames = Object.assign({}, spec.lle_frames, { runs },
                                   patch.frame_traces ? { traces: patch.frame_traces } : {},
                                   patch.frame_marks || {});
  }
  return out;
}

// --- frames built here -----------------------------------------------------------------------
// Python sends, in place of the frames (60 times every run's path, head and cross: most of a
// figure's bytes), what they are made of: spec.lle_frames (viz.race.figures._run_frames says
// what each field is).  Building them here takes ~1-2 ms; viz.race.figures.expand_frames does
// the same in Python (exports, tests).

function floats(a) {  // a float32 typed-array spec ({dtype: "f4", bdata}) or a list of numbers
  if (a && typeof a.bdata === "string") {
    const bin = atob(a.bdata);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }
  return Float32Array.from(a || []);
}

function withTail(a, v) {
  const out = new Float32Array(a.length + 1);
  out.set(a);
  out[a.length] = v;
  return out;
}

function runParts(run) {  // one run's numbers, decoded once for all its frames
  return { run, px: floats(run.px), py: floats(run.py), ex: floats(run.ex), ey: floats(run.ey),
           loss: floats(run.loss) };
}

function pathEntry(p, j) {  // frame j's entry of one run's path (not the last frame)
  const run = p.run;
  const k = run.k[j];
  let x = p.px.subarray(0, k), y = p.py.subarray(0, k);
  if (run.tail[j]) { x = withTail(x, p.ex[j]); y = withTail(y, p.ey[j]); }
  return { x, y };
}

// spec.frames from spec.lle_frames (in place): each frame names the runs' paths, the trace of
// their heads, the trace of their crosses (if one diverges) and one unchanged trace of each side
// plot (viz.race.figures.expand_frames does the same in Python)
function buildFrames(spec) {
  const c = spec.lle_frames;
  if (!c) return;
  delete spec.lle_frames;
  const parts = c.runs.map(runParts);
  const paths = c.traces.slice(0, parts.length);
  const heads = spec.data[c.heads], crosses = c.crosses === null ? null : spec.data[c.crosses];
  const n = c.names.length;
  spec.frames = c.names.map((name, j) => {
    const last = j === n - 1;
    const entries = paths.map((t, r) => (last ? { x: floats(spec.data[t].x), y: floats(spec.data[t].y) }
                                              : pathEntry(parts[r], j)));
    entries.push(last ? { x: heads.x.slice(), y: heads.y.slice(), customdata: heads.customdata.map((row) => row.slice()) }
                      : { x: parts.map((p) => p.ex[j]), y: parts.map((p) => p.ey[j]),
                          customdata: parts.map((p) => [p.run.end[j], p.loss[j]]) });
    if (crosses) {
      const shown = (r) => last || Boolean(parts[r].run.cross && parts[r].run.cross[j]);
      entries.push({ x: crosses.x.map((v, r) => (shown(r) ? v : null)),
                     y: crosses.y.map((v, r) => (shown(r) ? v : null)) });
    }
    for (let a = 0; a < c.anchors; a++) entries.push({});
    return { name, data: entries, traces: c.traces.slice() };
  });
}

// --- the side plots: a second figure over the first ------------------------------------------
// Python sends one figure: the landscape with the runs, and the side plots (traces on axes x2,
// x3, ...: after all the others) to its right.  The page draws the side plots as a second Plotly
// figure of the same size laid over the first (the same paper coordinates, transparent
// backgrounds, pointer events only on its plot areas: it looks and works as one figure), because
// Plotly's work per update grows with the traces and subplots of the figure it updates: a
// moved learning rate re-plots the run's path in a figure of 20 traces and its curves in one of
// 24, and a new side-plot range redraws the side plots, not the landscape's 324 click markers.

const SIDE_AXIS = /^[xy]axis\d+$/;  // xaxis2, yaxis3, ... (the main plot's are xaxis and yaxis)
const SIDE_KEYS = ["font", "height", "margin", "hovermode", "hoverlabel", "uirevision", "annotations"];
const CLEAR = "rgba(0,0,0,0)";

// {main, side, n, at}: the figure without the side plots (its first n traces) and the side plots
// alone (null when there are none), their traces run by run (Python's go plot by plot; the
// drawing is the same: a run's curves are in different plots), so that one run's curves are
// next to each other (see plan); at[j]: where the figure's trace n + j is in the side plots'.
function splitSpec(spec) {
  const n = spec.data.findIndex((t) => t.xaxis && t.xaxis !== "x");
  if (n < 0 || spec.data.slice(n).some((t) => !t.xaxis || t.xaxis === "x")) return { main: spec, side: null, n: spec.data.length, at: [] };
  const main = { data: spec.data.slice(0, n), layout: {} };
  const groups = new Map();  // a run's legend group -> its curves' indices, in Python's order
  spec.data.slice(n).forEach((t, j) => {
    const g = t.legendgroup || "trace" + j;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(j);
  });
  const order = [...groups.values()].flat();
  const at = [];
  order.forEach((j, k) => { at[j] = k; });
  const side = { data: order.map((j) => spec.data[n + j]),
                 layout: { showlegend: false, paper_bgcolor: CLEAR, plot_bgcolor: CLEAR } };
  for (const [k, v] of Object.entries(spec.layout)) {
    if (SIDE_AXIS.test(k)) side.layout[k] = v;
    else if (k !== "annotations") main.layout[k] = v;
  }
  for (const k of SIDE_KEYS) if (k in spec.layout) side.layout[k] = spec.layout[k];
  if (spec.frames) {  // each frame names the runs' traces and one unchanged ({}) trace per side plot
    main.frames = spec.frames.map((f) => {
      const keep = f.traces.map((t, m) => m).filter((m) => f.traces[m] < n);
      return { name: f.name, traces: keep.map((m) => f.traces[m]), data: keep.map((m) => f.data[m]) };
    });
  }
  return { main, side, n, at };
}

// How a figure part with keysOf() ``keys`` is to be drawn in ``g`` now: its quick update (plan)
// or null (Plotly.react).  (The keys are taken before keepHidden changes the part's traces.)
function planPart(g, keys) {
  // (a figure whose slider and Play button are still to come is drawn anew: see LATER)
  const step = g.__lleMoved || g.__lleLater ? null : plan(g.__lleKeys, keys);
  g.__lleKeys = keys;
  return step;
}

// What a figure drawn anew adds a frame after its first paint: the animation's slider and Play
// button (~45 of a first draw's ~130 ms here).
const LATER = ["sliders", "updatemenus"];

// Resolves once the browser has painted what is drawn so far (the next frame, then a task), or
// after 100 ms where no frame comes (a hidden tab draws no frames).
function afterPaint() {
  return new Promise((resolve) => {
    let done = false;
    const go = () => { if (!done) { done = true; setTimeout(resolve, 0); } };
    requestAnimationFrame(go);
    setTimeout(go, 100);
  });
}

// Whether the traces a quick update re-plots are shown as they are now (it changes their numbers
// alone): not so when a run added takes the place of a run the person had hidden (its legend
// group stays hidden, see keepHidden), which Plotly.react then draws.
function sameVisibility(g, part, step) {
  const shown = (t) => (t && t.visible !== undefined ? t.visible : true);
  return !step || step.traces.every((j) => shown(part.data[j]) === shown(g.data && g.data[j]));
}

function drawPart(Plotly, g, spec, step, config) {
  return step ? quick(Plotly, g, spec, step)
              : Plotly.react(g, { data: spec.data, layout: spec.layout, frames: spec.frames || [], config });
}

function clearPart(Plotly, g) {
  g.__lleKeys = null;
  if (g.data) Plotly.purge(g);
  g.style.marginTop = "";
}

// --- the legend ---------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function swatch(trace) {  // a small SVG of the trace's line or marker
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", "30");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  const el = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    svg.appendChild(e);
  };
  const line = trace.line || {};
  const marker = trace.marker || {};
  if (String(trace.mode || "").includes("lines")) {
    el("line", { x1: 2, y1: 9, x2: 28, y2: 9, stroke: line.color || "#444",
                 "stroke-width": Math.min(line.width || 2, 4) });
  } else {
    const edge = marker.line || {};
    const paint = { fill: marker.color || "#444", stroke: edge.color || "none",
                    "stroke-width": edge.width || 0 };
    if (marker.symbol === "star") {
      const pts = [];
      for (let k = 0; k < 10; k++) {
        const r = k % 2 ? 3.2 : 8, a = Math.PI / 2 + k * Math.PI / 5;
        pts.push((15 + r * Math.cos(a)).toFixed(2) + "," + (9.5 - r * Math.sin(a)).toFixed(2));
      }
      el("polygon", Object.assign({ points: pts.join(" ") }, paint));
    } else {
      el("circle", Object.assign({ cx: 15, cy: 9, r: 5.5 }, paint));
    }
  }
  return svg;
}

// The legend's entries: the traces Plotly would list (showlegend not false, a name), with the
// traces each one hides or shows (its legend group, else itself).
function entries(data) {
  const out = [];
  data.forEach((t, j) => {
    if (t.showlegend === false || !t.name) return;
    const members = [];
    data.forEach((u, k) => { if (k === j || (t.legendgroup && u.legendgroup === t.legendgroup)) members.push(k); });
    out.push({ trace: t, index: j, members });
  });
  return out;
}

const keyOf = (t) => t.legendgroup || "name:" + t.name;  // what stays hidden across figures

// Hide, in a new figure's data, what the person has hidden (gd.__lleHidden: keys of entries;
// forgotten when the landscape, and so the figure's uirevision, changes).
function keepHidden(gd, spec) {
  const rev = spec.layout.uirevision;
  if (!gd.__lleHidden || gd.__lleUirevision !== rev) gd.__lleHidden = new Set();
  gd.__lleUirevision = rev;
  for (const e of entries(spec.data)) {
    if (gd.__lleHidden.has(keyOf(e.trace))) for (const k of e.members) spec.data[k].visible = "legendonly";
  }
  gd.__lleMarks = marksOf(spec);
  for (const m of gd.__lleMarks) {  // (the figure's and its frames' objects: what Plotly is given)
    Object.assign(spec.data[m.k], maskedXY(m.shown, m.meta, gd.__lleHidden));
    m.entries.forEach((e, j) => { if (e) Object.assign(spec.frames[j].data[m.at[j]], maskedXY(e, m.meta, gd.__lleHidden)); });
  }
}

// The runs' heads and crosses are one trace each, a marker a run (its legend group in the trace's
// meta): a hidden run's marker is a point not drawn (null), in the figure and in every frame.
// marksOf: each such trace's numbers as Python sent them, in the figure and in each frame.
function marksOf(spec) {
  const out = [];
  spec.data.forEach((t, k) => {
    if (!Array.isArray(t.meta)) return;
    const at = (spec.frames || []).map((f) => f.traces.indexOf(k));
    out.push({ k, meta: t.meta, at, shown: { x: t.x, y: t.y },
               entries: at.map((m, j) => (m < 0 ? null : { x: spec.frames[j].data[m].x, y: spec.frames[j].data[m].y })) });
  });
  return out;
}

function maskedXY(xy, meta, hidden) {
  const mask = (v) => Array.from(v, (a, r) => (hidden.has(meta[r]) ? null : a));
  return { x: mask(xy.x), y: mask(xy.y) };
}

// After the legend hid or showed runs: their markers in the drawn figure (at the frame shown: the
// last, or the one the animation stopped at) and in its frames.
function maskMarks(Plotly, gd) {
  const marks = gd.__lleMarks || [];
  const frames = (gd.__lleSplit && gd.__lleSplit.main.frames) || [];
  if (!marks.length) return Promise.resolve();
  const shownAt = gd.__lleFrame === undefined ? -1 : frames.findIndex((f) => f.name === gd.__lleFrame);
  const update = { x: [], y: [] }, traces = [];
  for (const m of marks) {
    const xy = maskedXY(shownAt >= 0 && m.entries[shownAt] ? m.entries[shownAt] : m.shown, m.meta, gd.__lleHidden);
    update.x.push(xy.x);
    update.y.push(xy.y);
    traces.push(m.k);
  }
  const redone = frames.map((f, j) => ({
    name: f.name, traces: f.traces,
    data: f.data.map((e, i) => {
      const m = marks.find((q) => q.k === f.traces[i]);
      return m && m.entries[j] ? Object.assign({}, e, maskedXY(m.entries[j], m.meta, gd.__lleHidden)) : e;
    }),
  }));
  if (redone.length) Plotly.addFrames(gd, redone);  // (same names: replaced)
  return Plotly.restyle(gd, update, traces);
}

function drawLegend(Plotly, gd, box, data) {
  const items = entries(data);
  const hidden = gd.__lleHidden;
  const show = (which, visible) => {  // which: the entries to show (visible) or hide
    for (const e of which) (visible ? hidden.delete(keyOf(e.trace)) : hidden.add(keyOf(e.trace)));
    const members = which.flatMap((e) => e.members);
    const { n, at } = gd.__lleSplit, update = { visible: visible ? true : "legendonly" };
    const main = members.filter((k) => k < n), side = members.filter((k) => k >= n).map((k) => at[k - n]);
    return Promise.all([main.length && Plotly.restyle(gd, update, main).then(() => maskMarks(Plotly, gd)),
                        side.length && Plotly.restyle(gd.__lleSide, update, side)]);
  };
  box.replaceChildren(...items.map((e) => {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "lle-legend-item" + (hidden.has(keyOf(e.trace)) ? " lle-legend-off" : "");
    item.title = "Click: hide or show. Double click: this one alone.";
    const text = document.createElement("span");
    text.textContent = e.trace.name;
    item.append(swatch(e.trace), text);
    item.addEventListener("click", (ev) => {
      if (ev.detail > 1) return;  // (the double click below)
      show([e], hidden.has(keyOf(e.trace))).then(() => drawLegend(Plotly, gd, box, data));
    });
    item.addEventListener("dblclick", () => {
      const others = items.filter((o) => o !== e);
      const alone = !hidden.has(keyOf(e.trace)) && others.every((o) => hidden.has(keyOf(o.trace)));
      show(alone ? items : [e], true)
        .then(() => !alone && show(others, false))
        .then(() => drawLegend(Plotly, gd, box, data));
    });
    return item;
  }));
}

// --- learning rates and the results table (plain HTML under the plot) ----------------------

function swatchSpan(color) {
  const s = document.createElement("span");
  s.className = "lle-swatch";
  s.style.background = color;
  return s;
}

const sameValues = (a, b) => a.length === b.length && a.every((v, j) => v === b[j]);

// One range input per run over its notches (c.values); a move sends every run's rate as the
// trigger value "lr" (the last message carries all moves, however many reruns are skipped).
// While a sent move is not yet in the data (a rerun is on its way), the inputs keep what the
// person set; a focused input is updated in place, never rebuilt (the keyboard keeps working).
function drawControls(gd, box, controls) {
  const shape = controls.map((c) => c.key + ":" + c.values.join(",")).join("|");
  const now = controls.map((c) => c.values[c.at]);
  const pending = gd.__llePending;
  const keep = pending && pending.shape === shape && !sameValues(pending.values, now) &&
    performance.now() - pending.t < 10000;
  if (!keep) gd.__llePending = null;
  if (box.__lleShape !== shape) {
    box.__lleShape = shape;
    const inputs = [];
    const send = () => {
      const values = inputs.map((inp) => inp.__lleValues[+inp.value]);
      gd.__llePending = { shape, values, t: performance.now() };
      gd.__lleSend("lr", { keys: controls.map((c) => c.key), values });
    };
    box.replaceChildren(...controls.map((c) => {
      const wrap = document.createElement("div");  // (not a label: it holds a button too)
      wrap.className = "lle-lr";
      wrap.dataset.key = c.key;
      wrap.title = c.doc || "";
      const head = document.createElement("span");
      head.className = "lle-lr-head";
      const n = document.createElement("b");
      n.textContent = String(c.n);
      const name = document.createElement("span");
      name.className = "lle-lr-name";
      const value = document.createElement("span");
      value.className = "lle-lr-value";
      const remove = document.createElement("button");  // (the run's key names its place and optimizer)
      remove.type = "button";
      remove.className = "lle-lr-remove";
      remove.textContent = "×";
      remove.title = "Remove this run";
      remove.setAttribute("aria-label", "remove run " + c.n + ", " + c.name);
      remove.addEventListener("click", () => gd.__lleSend("remove", { key: c.key, n: controls.length }));
      head.append(swatchSpan(c.color), n, name, value, remove);
      const input = document.createElement("input");
      input.type = "range";
      input.min = "0";
      input.step = "1";
      input.style.accentColor = c.color;
      input.__lleName = name;
      input.__lleValue = value;
      input.addEventListener("input", () => show(input));
      input.addEventListener("change", send);
      inputs.push(input);
      wrap.append(head, input);
      return wrap;
    }));
  }
  box.querySelectorAll("input").forEach((input, j) => {
    const c = controls[j];
    input.__lleValues = c.values;
    input.__lleLabels = c.labels;
    input.__lleName.textContent = c.name;
    input.setAttribute("aria-label", "learning rate of run " + c.n + ", " + c.name);
    input.max = String(c.values.length - 1);
    if (!keep) input.value = String(c.at);
    show(input);
  });
}

// The landscape's parameters (params: viz.common.chart.param_controls): a range over notches, a
// number box or a checkbox each; a committed change sends the trigger value "param" = {key,
// value} (checked by viz.common.chart.param_change).  Rebuilt when the parameters change; a
// number box edited since keeps what was typed.
function drawParams(gd, box, params) {
  const shape = params.map((c) => c.key + ":" + c.kind + ":" + (c.values || []).join(",")).join("|");
  if (box.__lleShape !== shape) {
    box.__lleShape = shape;
    box.replaceChildren(...params.map((c) => {
      const label = document.createElement("label");
      label.className = "lle-param";
      label.title = c.doc || "";
      const name = document.createElement("span");
      name.textContent = c.label;
      const input = document.createElement("input");
      input.dataset.key = c.key;
      input.setAttribute("aria-label", c.label);
      const send = (v) => gd.__lleSend("param", { key: c.key, value: v });
      if (c.kind === "bool") {
        input.type = "checkbox";
        input.addEventListener("change", () => send(input.checked));
        label.append(input, name);
      } else if (c.kind === "notches") {
        input.type = "range";
        input.min = "0";
        input.step = "1";
        const value = document.createElement("span");
        value.className = "lle-param-value";
        input.__lleShow = () => {
          value.textContent = input.__lleLabels[+input.value];
          input.setAttribute("aria-valuetext", value.textContent);
        };
        input.addEventListener("input", () => input.__lleShow());
        input.addEventListener("change", () => send(input.__lleValues[+input.value]));
        label.append(name, input, value);
      } else {
        input.type = "number";
        input.addEventListener("input", () => { input.__lleEdited = true; });
        input.addEventListener("change", () => {
          const v = Number(input.value);
          if (input.value === "" || !Number.isFinite(v)) return;
          input.__lleEdited = false;
          send(v);
        });
        label.append(name, input);
      }
      return label;
    }));
  }
  box.querySelectorAll("input").forEach((input, j) => {
    const c = params[j];
    if (c.kind === "bool") input.checked = c.value;
    else if (c.kind === "notches") {
      input.__lleValues = c.values;
      input.__lleLabels = c.labels;
      input.max = String(c.values.length - 1);
      input.value = String(c.at);
      input.__lleShow();
    } else {
      input.min = String(c.min);
      input.max = String(c.max);
      input.step = String(c.step);
      if (!input.__lleEdited) input.value = String(c.value);
    }
  });
}

// The "Add a run" button (add: viz.common.chart.add_control): the trigger value "add" = {n: the
// runs shown}; disabled at the most runs.
function drawAdd(gd, box, add) {
  if (!add) { box.replaceChildren(); return; }
  let button = box.firstChild;
  if (!button) {
    button = document.createElement("button");
    button.type = "button";
    button.textContent = "+ Add a run";
    button.title = "Adds the next optimizer; pick another one and its hyperparameters in the sidebar";
    button.addEventListener("click", () => gd.__lleSend("add", { n: button.__lleN }));
    box.replaceChildren(button);
  }
  button.__lleN = add.n;
  button.disabled = add.n >= add.max;
}

function show(input) {  // the value next to the name, and what a screen reader says
  const text = "α = " + input.__lleLabels[+input.value];
  input.__lleValue.textContent = text;
  input.setAttribute("aria-valuetext", text);
}

// The start point's inputs (start: viz.common.chart.start_control).  A committed edit (Enter,
// or leaving the box) sends the trigger value "start" = {x, y}: the edited coordinate as typed,
// the other as the data had it (exact: the box shows 6 digits); "Reset" sends {reset: true}.
// A box the person has edited since the last send keeps what they typed.
function drawStart(gd, box, start) {
  if (!start) { box.replaceChildren(); box.__lleInputs = null; return; }
  if (!box.__lleInputs) {
    const title = document.createElement("b");
    title.textContent = "Start";
    const inputs = ["x", "y"].map((c) => {
      const input = document.createElement("input");
      input.type = "number";
      input.name = c;
      input.setAttribute("aria-label", "start " + c);
      input.addEventListener("input", () => { input.__lleEdited = true; });
      input.addEventListener("change", () => {
        const both = box.__lleInputs;
        const value = (i) => (i.__lleEdited ? Number(i.value) : i.__lleExact);
        const [x, y] = both.map(value);
        if (both.some((i) => i.value === "") || !Number.isFinite(x) || !Number.isFinite(y)) return;
        for (const i of both) i.__lleEdited = false;
        gd.__lleSend("start", { x, y });
      });
      const label = document.createElement("label");
      label.append(c + " ", input);
      return { label, input };
    });
    const reset = document.createElement("button");
    reset.type = "button";
    reset.textContent = "Reset";
    reset.title = "Back to the landscape's own start";
    reset.addEventListener("click", () => gd.__lleSend("start", { reset: true }));
    const tip = document.createElement("span");
    tip.className = "lle-start-tip";
    tip.textContent = "or click on the landscape";
    box.replaceChildren(title, ...inputs.map((i) => i.label), reset, tip);
    box.__lleInputs = inputs.map((i) => i.input);
  }
  box.__lleInputs.forEach((input, k) => {
    input.__lleExact = k ? start.y : start.x;
    input.min = String(start.domain[2 * k]);
    input.max = String(start.domain[2 * k + 1]);
    input.step = String(start.step[k]);
    if (!input.__lleEdited) input.value = start.labels[k];
  });
}

// The step count's input (steps: viz.common.chart.steps_control).  A committed edit (Enter, or
// leaving the box) sends the trigger value "steps" = {steps: the number typed} (checked by
// viz.race.scene.steps_from_input: rounded, clamped); a box edited since keeps what was typed.
function drawSteps(gd, box, steps) {
  if (!steps) { box.replaceChildren(); box.__lleInput = null; return; }
  let input = box.__lleInput;
  if (!input) {
    input = document.createElement("input");
    input.type = "number";
    input.name = "steps";
    input.setAttribute("aria-label", "steps");
    input.addEventListener("input", () => { input.__lleEdited = true; });
    input.addEventListener("change", () => {
      const n = Number(input.value);
      if (input.value === "" || !Number.isFinite(n)) return;
      input.__lleEdited = false;
      gd.__lleSend("steps", { steps: n });
    });
    const title = document.createElement("b");
    title.textContent = "Steps";
    const label = document.createElement("label");
    label.title = steps.help;
    label.append(title, input);
    box.replaceChildren(label);
    box.__lleInput = input;
  }
  input.min = String(steps.min);
  input.max = String(steps.max);
  input.step = String(steps.step);
  if (!input.__lleEdited) input.value = String(steps.value);
}

function drawTable(box, table) {
  if (!table || !table.rows || !table.rows.length) { box.replaceChildren(); return; }
  const el = document.createElement("table");
  const head = el.createTHead().insertRow();
  for (const h of table.header) {
    const th = document.createElement("th");
    th.textContent = h;
    head.appendChild(th);
  }
  const body = el.createTBody();
  table.rows.forEach((row, j) => {
    const tr = body.insertRow();
    row.forEach((cell, k) => {
      const td = tr.insertCell();
      if (k === 0 && table.colors && table.colors[j]) td.appendChild(swatchSpan(table.colors[j]));
      td.appendChild(document.createTextNode(cell));
    });
  });
  box.replaceChildren(el);
}

// A new visitor's page shows the chart first and the rest once the chart reports "drawn"
// (viz/race/state.py, CHART_FIRST); if it cannot draw, it reports anyway after this long.
const DRAWN_WAIT_MS = 5000;

function reportDrawn(gd) {
  if (gd.__lleReported) return;
  gd.__lleReported = true;
  gd.__lleSend("drawn", true);
}

// The direct route (viz/race/direct.py).  A learning rate, a typed start, a click, the steps, a
// run added or removed or a landscape parameter are first sent
// to the server's route with the name of the figure shown; its answer (the chart's data, as the
// page's rerun would send it) is drawn, and then the trigger goes to Streamlit as before, with
// the name of the figure now shown ("have"): the page's rerun makes the change its own (the URL,
// the share row) and sends a patch from that figure (empty when it is the same: nothing drawn).
// Any other answer, an error, no answer within DIRECT_WAIT_MS, or a chart that has not drawn
// yet: the trigger goes (at once, in the last case), the page's way.  A change made while one is
// on its way waits for it (the latest of each kind: a learning rate's message carries every
// run's rate), so the page hears them in order.
const DIRECT = new Set(["lr", "start", "click", "steps", "add", "remove", "param"]);
const DIRECT_URL = "api/race/chart";  // (relative: the app's base path, if any, comes with it)
const DIRECT_WAIT_MS = 3000;  // no answer by then (a stalled connection): the page's way

function ask(body) {  // the route's answer to body (JSON): its bytes, or null
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), DIRECT_WAIT_MS);
  return fetch(DIRECT_URL, { method: "POST", headers: { "Content-Type": "application/json" },
                             body, signal: stop.signal })
    .then((r) => (r.ok ? r.arrayBuffer() : null))
    .catch(() => null)
    .then((buf) => { clearTimeout(timer); return buf; });
}

// A click on the plot: Plotly reports it on the mouse's release, after its own work there (its
// drag cover, the hover computed again: ~10 ms here).  The point under the mouse is known when
// the button goes down (the last hover, the point the click reports if the mouse stays): the
// route is asked then (early), and the click uses that answer when it names the same point in
// the same figure (else, e.g. a drag that zooms, it is let go).
function askEarly(gd, kind, value) {
  const q = gd.__lleRev;
  if (!q || !gd.__lleDrawn || gd.__lleAsking || !value) return;
  const body = JSON.stringify({ q, kind, value });
  performance.mark("lle-direct-early");
  gd.__lleEarly = { body, reply: ask(body) };
}

// A click's start (viz.race.scene.start_from_click): the point Plotly reports, clicked or hovered.
function clickValue(ev) {
  const p = ev && ev.points && ev.points[0];
  return p && typeof p.x === "number" && typeof p.y === "number" ? { x: p.x, y: p.y, curve: p.curveNumber } : null;
}

function send(gd, kind, value) {
  const trigger = (k, v) => gd.__lleTrigger(k, v);  // (the latest: the component may render meanwhile)
  const q = gd.__lleRev;
  if (DIRECT.has(kind) && gd.__lleAsking) {
    gd.__lleQueued.delete(kind);
    gd.__lleQueued.set(kind, value);
    return;
  }
  if (!DIRECT.has(kind) || !q || !gd.__lleDrawn) { gd.__lleTold = []; trigger(kind, value); return; }
  gd.__lleAsking = true;
  performance.mark("lle-direct-sent");
  const body = JSON.stringify({ q, kind, value });
  const early = gd.__lleEarly;
  gd.__lleEarly = null;
  if (early && early.body === body) performance.mark("lle-direct-early-used");
  (early && early.body === body ? early.reply : ask(body))
    .then((buf) => (buf && gd.__lleRev === q ? receive(gd, new Uint8Array(buf)) : null))
    .catch(() => null)
    .then(() => {
      gd.__lleAsking = false;
      const have = gd.__lleRev;  // drawn: the page's rerun sends a patch from it (none, if the same)
      if (have !== q) told(gd, have);
      else gd.__lleTold = [];  // (the page's way: whatever figure the page sends is drawn)
      trigger(kind, have !== q ? { ...value, have } : value);
      sendQueued(gd);
    });
}

// The figures the chart drew from the route and named to the page ("have"), the last one last.
// A rerun of the page for an earlier one can reach the chart after a later one is drawn (two
// quick moves: the page is one behind): its data is a patch from a figure the chart no longer
// has.  Asking for the whole figure then ("resync") would draw the earlier figure again and put
// a second trigger right behind the later one's; the page's rerun for the later one is on its
// way and sends a patch from what the chart shows: such data is let go (isStale).  A change that
// goes the page's way forgets them (the page's figure is then drawn, whichever it is).
const TOLD_KEPT = 8;

function told(gd, rev) {
  gd.__lleTold = (gd.__lleTold || []).filter((r) => r !== rev).slice(-(TOLD_KEPT - 1));
  gd.__lleTold.push(rev);
}

function isStale(gd, data) {
  const t = gd.__lleTold || [];
  return t.length > 1 && t[t.length - 1] === gd.__lleRev && data.rev !== gd.__lleRev &&
    t.slice(0, -1).includes(data.rev);
}

function sendQueued(gd) {
  while (gd.__lleQueued.size && !gd.__lleAsking) {
    const [kind, value] = gd.__lleQueued.entries().next().value;
    gd.__lleQueued.delete(kind);
    send(gd, kind, value);
  }
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const gd = parentElement.querySelector(".lle-chart");
  const side = parentElement.querySelector(".lle-side");
  if (!gd || !side) return;
  gd.__lleEls = {
    side, legend: parentElement.querySelector(".lle-legend"),
    message: parentElement.querySelector(".lle-chart-message"),
    note: parentElement.querySelector(".lle-note"), startBox: parentElement.querySelector(".lle-start"),
    stepsBox: parentElement.querySelector(".lle-steps"), params: parentElement.querySelector(".lle-params"),
    lrs: parentElement.querySelector(".lle-lrs"), table: parentElement.querySelector(".lle-table"),
    add: parentElement.querySelector(".lle-add"),
  };
  gd.__lleSide = side;
  if (!gd.__lleDown) {  // (before Plotly's own handlers: the capture phase)
    gd.__lleDown = true;
    gd.addEventListener("mousedown", (ev) => { if (ev.button === 0) askEarly(gd, "click", gd.__lleHover); }, true);
  }
  gd.__lleTrigger = setTriggerValue;  // (the handlers bound once use the latest)
  gd.__lleSend = (kind, value) => send(gd, kind, value);
  if (!gd.__lleQueued) gd.__lleQueued = new Map();  // changes made while one is asked
  if (!gd.__lleTimer) gd.__lleTimer = setTimeout(() => reportDrawn(gd), DRAWN_WAIT_MS);
  if (component.data === gd.__lleBytes) return;  // the same bytes: nothing to parse
  gd.__lleBytes = component.data;
  receive(gd, component.data, true);
}

// The chart's data (JSON bytes: viz.common.chart.payload), from the page or the direct route:
// drawn; a promise that settles once it is (undefined when there is nothing to draw).
function receive(gd, bytes, fromPage = false) {
  const { side, legend, message, note, startBox, stepsBox, params, lrs, table, add } = gd.__lleEls;
  let data = bytes;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    data = JSON.parse(new TextDecoder().decode(data));
  }
  if (!data) return undefined;
  if (gd.__lleRev === data.rev) return undefined;  // the same figure: nothing to draw
  if (fromPage && isStale(gd, data)) {  // the page is one behind the chart: its next rerun follows
    performance.mark("lle-chart-stale");
    return undefined;
  }
  if (data.patch) {  // a patch to the figure named data.base
    const had = gd.__llePristine;
    if (!had || had.rev !== data.base) {  // this chart does not have it: ask for the whole figure
      gd.__lleBytes = null;
      performance.mark("lle-chart-resync");
      gd.__lleSend("resync", data.rev);
      return undefined;
    }
    data.spec = applyPatch(had.spec, data.patch);
  }
  gd.__llePristine = data.spec ? { rev: data.rev, spec: data.spec } : null;
  if (data.spec) {
    data.spec = structuredClone(data.spec);  // (Plotly's own copy)
    buildFrames(data.spec);
  }
  gd.__lleRev = data.rev;
  const rev = data.rev;
  performance.mark("lle-chart-data");  // for benchmarks/bench_page.py: where a change's time goes
  // (after the plot's update has started below: it comes first on the busy thread)
  const rest = () => {
    note.textContent = data.note || "";
    drawSteps(gd, stepsBox, data.steps);
    drawStart(gd, startBox, data.start);
    drawParams(gd, params, data.params || []);
    drawControls(gd, lrs, data.controls || []);
    drawAdd(gd, add, data.add);
    drawTable(table, data.table);
  };
  if (!data.spec) {  // no plot here (the 3-D view draws its own): the controls and the table
    gd.__lleKeys = side.__lleKeys = null;
    if (gd.__lleDrawn) {
      gd.__lleDrawn = false;
      window.llePlotly.then((Plotly) => {
        if (gd.__lleDrawn) return;  // a figure came back meanwhile
        Plotly.purge(gd);  // (and its event handlers: bound again with the next figure)
        clearPart(Plotly, side);
        gd.__lleBound = false;
      });
    }
    legend.replaceChildren();
    rest();
    reportDrawn(gd);
    return undefined;
  }
  return window.llePlotly
    .then((Plotly) => {
      if (gd.__lleRev !== rev) return null;  // a newer figure arrived while loading
      rememberArrayAttributes(Plotly);
      const spec = data.spec;
      spec.layout = Object.assign({}, spec.layout, { showlegend: false });  // (drawLegend)
      const parts = splitSpec(spec);
      let step = planPart(gd, keysOf(parts.main));
      const sideKeys = parts.side && keysOf(parts.side);
      keepHidden(gd, spec);  // (after the keys: they compare what Python sent)
      if (!sameVisibility(gd, parts.main, step)) step = null;
      performance.mark(step ? "lle-chart-quick" : "lle-chart-react");
      const config = Object.assign({ responsive: true }, data.config || {});
      gd.__lleSplit = parts;
      // A figure drawn anew (Plotly.react: a first load, another scene, ...) takes a few hundred
      // ms on a slow machine: the landscape, its paths and the legend are painted first; its
      // slider and Play button (LATER), the side plots and what is under the plot a frame
      // later (drawRest).  A quick update draws everything at once.
      const later = {};
      let main = parts.main;
      if (!step) {
        for (const k of LATER) if (k in main.layout) later[k] = main.layout[k];
        main = Object.assign({}, main, { layout: omit(main.layout, LATER) });
        gd.__lleLater = Object.keys(later).length ? rev : null;  // (until drawRest adds them)
      }
      const mainDrawn = drawPart(Plotly, gd, main, step, config);
      gd.__lleMoved = false;
      gd.__lleFrame = undefined;  // (the last frame: what a figure shows when drawn)
      gd.__lleDrawn = true;
      drawLegend(Plotly, gd, legend, spec.data);
      const drawRest = () => {
        if (gd.__lleRev !== rev) return null;  // a newer figure came meanwhile: it draws these
        performance.mark("lle-chart-side");
        rest();
        const menus = gd.__lleLater === rev ? Plotly.relayout(gd, later) : null;
        if (gd.__lleLater === rev) gd.__lleLater = null;
        if (!parts.side) return Promise.all([menus, clearPart(Plotly, side)]);
        side.style.marginTop = -spec.layout.height + "px";  // (over the main figure)
        const sideStep = planPart(side, sideKeys);
        const anew = sideStep && ((sideStep.traces.length && Object.keys(sideStep.ranges).length) ||
                                  !sameVisibility(side, parts.side, sideStep));
        return Promise.all([menus, drawPart(Plotly, side, parts.side, anew ? null : sideStep,
                                            Object.assign({}, config, { displayModeBar: false }))]);
      };
      const sideDrawn = step ? drawRest() : mainDrawn.then(afterPaint).then(drawRest);
      mainDrawn.then(() => {
        performance.mark("lle-chart-main");
        reportDrawn(gd);  // (a first load: the rest of the page may come now)
      }, () => {});
      return Promise.all([mainDrawn, sideDrawn]).then(() => {
          performance.mark("lle-chart-drawn");
          message.textContent = "";
          reportDrawn(gd);
          if (!gd.__lleBound) {
            gd.__lleBound = true;
            gd.on("plotly_click", (ev) => {
              const value = clickValue(ev);
              if (value) gd.__lleSend("click", value);
            });
            gd.on("plotly_hover", (ev) => { gd.__lleHover = clickValue(ev); });  // (askEarly)
            gd.on("plotly_unhover", () => { gd.__lleHover = null; });
            // the person played or scrubbed the animation: the runs show some earlier step,
            // so the next figure is drawn in full
            const moved = () => { gd.__lleMoved = true; };
            gd.on("plotly_buttonclicked", moved);
            gd.on("plotly_sliderchange", moved);
            // the frame shown (frames are named by their place): a run hidden meanwhile hides its
            // marker there (maskMarks)
            gd.on("plotly_animatingframe", (ev) => { gd.__lleFrame = ev && ev.name; });
          }
        });
    })
    .catch((err) => {
      gd.__lleRev = null;  // a later render tries again
      gd.__lleBytes = null;
      gd.__lleKeys = side.__lleKeys = null;
      rest();
      message.textContent = "The chart could not be drawn: " + err.message +
        " (the app serves Plotly from its static folder: server.enableStaticServing must be on).";
      reportDrawn(gd);
    });
}
