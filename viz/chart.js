// The race page's main chart (see viz/chart.py).  Plotly's basic bundle (viz/plotly_loader.js,
// which runs just before this code) draws the figure spec built in Python (viz.figures) and
// updates it in place with Plotly.react.  A click on a point of the figure sends its (x, y)
// back to Python as the trigger value "click".

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const gd = parentElement.querySelector(".lle-chart");
  const message = parentElement.querySelector(".lle-chart-message");
  if (!gd) return;
  gd.__lleSend = setTriggerValue;  // the click handler (bound once) uses the latest one
  if (component.data === gd.__lleBytes) return;  // the same bytes: nothing to parse
  gd.__lleBytes = component.data;
  let data = component.data;  // JSON bytes (viz.chart.payload)
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    data = JSON.parse(new TextDecoder().decode(data));
  }
  if (!data || !data.spec) return;
  if (gd.__lleRev === data.rev) return;  // the same figure: nothing to draw
  gd.__lleRev = data.rev;
  const rev = data.rev;
  performance.mark("lle-chart-data");  // for benchmarks/bench_page.py: where a change's time goes
  window.llePlotly
    .then((Plotly) => {
      if (gd.__lleRev !== rev) return null;  // a newer figure arrived while loading
      const spec = data.spec;
      performance.mark("lle-chart-react");
      return Plotly.react(gd, { data: spec.data, layout: spec.layout, frames: spec.frames || [],
                                config: Object.assign({ responsive: true }, data.config || {}) })
        .then(() => {
          performance.mark("lle-chart-drawn");
          message.textContent = "";
          if (!gd.__lleBound) {
            gd.__lleBound = true;
            gd.on("plotly_click", (ev) => {
              const p = ev && ev.points && ev.points[0];
              if (p && typeof p.x === "number" && typeof p.y === "number") {
                gd.__lleSend("click", { x: p.x, y: p.y, curve: p.curveNumber });
              }
            });
          }
        });
    })
    .catch((err) => {
      gd.__lleRev = null;  // a later render tries again
      gd.__lleBytes = null;
      message.textContent = "The chart could not be drawn: " + err.message +
        " (the app serves Plotly from its static folder: server.enableStaticServing must be on).";
    });
}
