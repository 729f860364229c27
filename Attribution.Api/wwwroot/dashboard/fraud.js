// The fraud panel: flagged events per impression by rule over the dashboard's range (/api/v1/fraud/series), the hours
// the anomaly report names marked on it (/api/v1/fraud/anomalies), and what each rule excluded (/api/v1/fraud/summary).
// dashboard.js announces its range with a "dashboard:range" event on every load.
(() => {
  "use strict";
  const COLORS = ["#f04438", "#f79009", "#7a5af8", "#0e9384", "#ee46bc", "#2e90fa"];
  const ANOMALY = "#101828";
  const $ = id => document.getElementById(id);
  const percent = v => (v * 100).toFixed(2) + " %";
  const money = v => new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v);
  const count = v => new Intl.NumberFormat("en-US").format(v);

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url.split("?")[0]}: ${response.status}`);
    return response.json();
  }

  function drawSeries(div, series, anomalies, bucket) {
    const times = series.points.map(p => Date.parse(p.bucket) / 1000);
    const values = series.rules.map(r => series.points.map(p => p.share[r]));
    // An anomalous hour is drawn as a marker at the top of that hour's largest share (or at zero when nothing was flagged).
    const anomalous = new Set(anomalies.map(a => Date.parse(a.hour) / 1000));
    const marks = series.points.map((p, i) => anomalous.has(times[i]) ? Math.max(0, ...values.map(v => v[i] ?? 0)) : null);
    if (div._plot) div._plot.destroy();
    div.replaceChildren();
    const label = t => bucket === "hour" ? new Date(t * 1000).toISOString().slice(5, 13).replace("T", " ") + "h" : new Date(t * 1000).toISOString().slice(0, 10);
    div._plot = new uPlot({
      width: Math.max(280, div.clientWidth || 720), height: 220,
      legend: { show: true },
      scales: { x: { time: false } },
      axes: [{ values: (u, splits) => splits.map(label), space: 120 }, { values: (u, splits) => splits.map(percent), size: 72 }],
      series: [{}, ...series.rules.map((r, k) => ({ label: r, stroke: COLORS[k % COLORS.length], width: 2, points: { size: 5 }, value: (u, v) => v === null ? "–" : percent(v) })),
        { label: "anomaly", stroke: ANOMALY, width: 0, points: { size: 11, fill: ANOMALY } }],
    }, [times, ...values, marks], div);
    const points = values.map(v => v.filter(x => x !== null && x !== undefined && x > 0).length);
    div.dataset.series = String(points.filter(n => n > 0).length);
    div.dataset.points = points.join(",");
    div.dataset.anomalies = String(marks.filter(m => m !== null).length);
  }

  function drawSummary(lines) {
    const body = document.querySelector("#fraud-summary tbody");
    body.replaceChildren();
    for (const l of lines) {
      const tr = document.createElement("tr");
      tr.dataset.rule = l.rule;
      for (const c of [l.campaign_id ?? "(none)", l.rule, count(l.impressions), count(l.clicks), count(l.conversions), money(l.spend_excluded), money(l.revenue_excluded)])
        tr.appendChild(Object.assign(document.createElement("td"), { textContent: c }));
      body.appendChild(tr);
    }
  }

  async function load({ from, to, bucket }) {
    const panel = $("fraud");
    const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
    try {
      const [series, anomalies, summary] = await Promise.all([
        getJson(`/api/v1/fraud/series?${q}&bucket=${bucket}`),
        getJson(`/api/v1/fraud/anomalies?${q}`),
        getJson(`/api/v1/fraud/summary?${q}`),
      ]);
      drawSeries(panel.querySelector('div[data-chart="fraud"]'), series, anomalies.anomalies, bucket);
      drawSummary(summary.lines);
      $("fraud-error").textContent = "";
      panel.dataset.state = "ready";
    } catch (e) {
      $("fraud-error").textContent = e.message;
      panel.dataset.state = "error";
    }
  }

  document.addEventListener("dashboard:range", e => load(e.detail));
})();
