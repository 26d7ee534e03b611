// Loads Plotly's basic bundle once per page and keeps the promise in window.llePlotly.
// A plain script: viz/common/chart.py runs it first thing on the page (to start the download while
// the rest of the page arrives) and again ahead of the chart component's code.
(function () {
  if (window.llePlotly) return;
  window.llePlotly = new Promise((resolve, reject) => {
    if (window.Plotly) return resolve(window.Plotly);
    const script = document.createElement("script");
    script.src = new URL("app/static/plotly-basic.min.js", document.baseURI).href;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      window.llePlotly = null;  // a later render tries again
      reject(new Error("could not load " + script.src));
    };
    document.head.appendChild(script);
  });
  window.llePlotly.catch(() => {});  // reported where the chart awaits it
})();
