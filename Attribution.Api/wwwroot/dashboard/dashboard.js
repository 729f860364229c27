// The dashboard: reads /api/v1/metrics, /api/v1/experiments, /api/v1/billing/periods and /api/v1/pipeline/status;
// charts are uPlot's (lib/, fetched from npm by the build).
(() => {
  "use strict";
  const HOUR = 3600 * 1000;
  const DAY = 24 * HOUR;
  const MAX_SERIES = 8;
  const COLORS = ["#2e90fa", "#f79009", "#12b76a", "#f04438", "#7a5af8", "#0e9384", "#ee46bc", "#667085"];
  const CHARTS = [
    { key: "impressions", ratio: false, format: v => count(v) },
    { key: "clicks", ratio: false, format: v => count(v) },
    { key: "cost", ratio: false, format: v => money(v) },
    { key: "revenue", ratio: false, format: v => money(v) },
    { key: "roas", ratio: true, format: v => v.toFixed(2) },
    { key: "ctr", ratio: true, format: v => percent(v) },
  ];
  const params = new URLSearchParams(location.search);
  const $ = id => document.getElementById(id);

  function count(v) { return new Intl.NumberFormat("en-US").format(v); }
  function money(v) { return new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v); }
  function percent(v) { return (v * 100).toFixed(2) + " %"; }
  function orDash(v, f) { return v === null || v === undefined ? "–" : f(v); }

  function range() {
    const from = params.get("from"), to = params.get("to");
    if (from && to) return { from: new Date(from), to: new Date(to), fixed: true };
    const hours = Number($("range").value);
    // Up to the next whole hour, so the whole range is served by the hourly rollup.
    const end = new Date(Math.ceil(Date.now() / HOUR) * HOUR);
    return { from: new Date(end.getTime() - hours * HOUR), to: end, fixed: false };
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch { /* not a problem document */ }
      throw new Error(`${url.split("?")[0]}: ${response.status} ${detail}`);
    }
    return response.json();
  }

  function setMetric(el, value, format) {
    el.dataset.value = value === null || value === undefined ? "" : String(value);
    el.textContent = orDash(value, format);
  }

  function renderTotals(t) {
    setMetric(document.querySelector('[data-metric="impressions"]'), t.impressions, count);
    setMetric(document.querySelector('[data-metric="clicks"]'), t.clicks, count);
    setMetric(document.querySelector('[data-metric="conversions"]'), t.conversions, count);
    setMetric(document.querySelector('[data-metric="cost"]'), t.cost, money);
    setMetric(document.querySelector('[data-metric="revenue"]'), t.revenue, money);
    setMetric(document.querySelector('[data-metric="roas"]'), t.roas, v => v.toFixed(2));
    setMetric(document.querySelector('[data-metric="ctr"]'), t.ctr, percent);
    setMetric(document.querySelector('[data-metric="cvr"]'), t.cvr, percent);
  }

  function renderTable(rows) {
    const body = document.querySelector("#campaigns tbody");
    body.replaceChildren();
    for (const r of [...rows].sort((a, b) => b.revenue - a.revenue || b.cost - a.cost).slice(0, 50)) {
      const tr = document.createElement("tr");
      tr.dataset.campaign = r.campaign_id ?? "";
      const cells = [r.campaign_id ?? "(none)", count(r.impressions), count(r.clicks), count(r.conversions), money(r.cost),
        money(r.revenue), orDash(r.roas, v => v.toFixed(2)), orDash(r.ctr, percent), orDash(r.cvr, percent), orDash(r.cpa, money)];
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function buckets(from, to, step) {
    const start = Math.floor(from.getTime() / step) * step;
    const list = [];
    for (let t = start; t < to.getTime(); t += step) list.push(t);
    return list;
  }

  // As wide as its box (the grid sizes the boxes), so a chart is never cut off on a narrow screen.
  function plot(div, opts, data) {
    if (div._plot) div._plot.destroy();
    div.replaceChildren();
    div._plot = new uPlot({ ...opts, width: Math.max(280, div.clientWidth || opts.width) }, data, div);
  }

  function renderChart(div, chart, campaigns, times, cells, step) {
    const values = campaigns.map(c => times.map(t => {
      const row = cells.get(c + "\u0000" + t);
      if (!row) return chart.ratio ? null : 0;
      return row[chart.key];
    }));
    const label = t => step === HOUR ? new Date(t * 1000).toISOString().slice(5, 13).replace("T", " ") + "h" : new Date(t * 1000).toISOString().slice(0, 10);
    plot(div, {
      width: 480, height: 220,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [
        { values: (u, splits) => splits.map(label), space: 120 },
        { values: (u, splits) => splits.map(chart.format), size: 72 },
      ],
      series: [{}, ...campaigns.map((c, k) => ({ label: c, stroke: COLORS[k % COLORS.length], width: 2, points: { size: 5 } }))],
    }, [times.map(t => t / 1000), ...values]);
    const points = values.map(v => v.filter(x => x !== null && x !== undefined).length);
    div.dataset.series = String(points.filter(n => n > 0).length);
    div.dataset.points = points.join(",");
  }

  function renderCharts(rows, totalsByCampaign, from, to, bucket) {
    const step = bucket === "hour" ? HOUR : DAY;
    const times = buckets(from, to, step);
    const campaigns = [...totalsByCampaign].sort((a, b) => b.cost - a.cost || b.impressions - a.impressions)
      .slice(0, MAX_SERIES).map(r => r.campaign_id ?? "(none)");
    const cells = new Map(rows.map(r => [(r.campaign_id ?? "(none)") + "\u0000" + Date.parse(r[bucket]), r]));
    for (const chart of CHARTS) renderChart(document.querySelector(`div[data-chart="${chart.key}"]`), chart, campaigns, times, cells, step);
    const legend = $("legend");
    legend.replaceChildren();
    campaigns.forEach((c, k) => {
      const span = document.createElement("span");
      span.style.setProperty("--c", COLORS[k % COLORS.length]);
      span.textContent = c;
      legend.appendChild(span);
    });
    $("bucket-label").textContent = `(per ${bucket}, top ${campaigns.length} campaigns by spend)`;
  }

  // Each experiment that has started: its arms' CTR with the 95 % Wilson interval as a band, and the verdict per arm.
  async function loadExperiments() {
    const box = $("experiments");
    const list = (await getJson("/api/v1/experiments")).experiments.filter(e => e.state !== "scheduled").slice(0, 6);
    if (list.length === 0) { box.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: "none" })); return; }
    const results = await Promise.all(list.map(e => getJson(`/api/v1/experiments/${encodeURIComponent(e.experiment_id)}`)));
    box.replaceChildren(...results.map(renderExperiment));
  }

  function renderExperiment(r) {
    const figure = document.createElement("figure");
    figure.dataset.testid = "experiment";
    figure.dataset.experiment = r.experiment_id;
    figure.dataset.arms = String(r.arms.length);
    const caption = document.createElement("figcaption");
    const srm = r.srm.srm_detected ? " · sample ratio mismatch: do not trust the split" : "";
    caption.textContent = `${r.experiment_id} (${r.campaign_id}, ${r.state}) · progress ${orDash(r.progress, percent)}${srm}`;
    const chart = document.createElement("div");
    chart.className = "chart";
    figure.append(caption, chart);
    const ctr = r.arms.map(a => a.ctr), lower = r.arms.map(a => a.ctr_ci ? a.ctr_ci.lower : null), upper = r.arms.map(a => a.ctr_ci ? a.ctr_ci.upper : null);
    const names = r.arms.map(a => a.creative_id);
    // Drawn into the figure once it is in the page: uPlot measures its container.
    queueMicrotask(() => plot(chart, {
      width: 480, height: 200,
      legend: { show: false },
      scales: { x: { time: false, range: [-0.5, names.length - 0.5] } },
      axes: [{ values: (u, splits) => splits.map(i => Number.isInteger(i) ? names[i] ?? "" : ""), incrs: [1] }, { values: (u, splits) => splits.map(percent), size: 72 }],
      series: [{}, { label: "CTR", stroke: COLORS[0], width: 0, points: { size: 9, fill: COLORS[0] } },
        { label: "95 % low", stroke: COLORS[0], width: 0, points: { size: 4 } }, { label: "95 % high", stroke: COLORS[0], width: 0, points: { size: 4 } }],
      bands: [{ series: [3, 2], fill: "rgba(46, 144, 250, 0.15)" }],
    }, [names.map((_, i) => i), ctr, lower, upper]));
    const table = document.createElement("table");
    table.innerHTML = "<thead><tr><th>Arm</th><th>Impressions</th><th>Clicks</th><th>CTR (95 %)</th><th>CTR lift</th><th>p</th><th>CVR</th></tr></thead>";
    const body = document.createElement("tbody");
    for (const a of r.arms) {
      const tr = document.createElement("tr");
      const vs = a.vs_control ? a.vs_control.ctr : null;
      const cells = [a.creative_id + (a.control ? " (control)" : ""), count(a.impressions), count(a.clicks),
        a.ctr === null ? "–" : `${percent(a.ctr)} [${percent(a.ctr_ci.lower)}, ${percent(a.ctr_ci.upper)}]`,
        vs && vs.lift !== null ? (vs.lift >= 0 ? "+" : "") + percent(vs.lift) : "–",
        vs && vs.p_value !== null ? vs.p_value.toFixed(4) + (vs.significant ? " *" : "") : "–", orDash(a.cvr, percent)];
      for (const c of cells) tr.appendChild(Object.assign(document.createElement("td"), { textContent: c }));
      body.appendChild(tr);
    }
    table.appendChild(body);
    figure.appendChild(table);
    return figure;
  }

  // This month's bill (or ?billing_period=yyyy-mm): a line per campaign version, and the adjustments it carries for
  // late events of closed months. Amounts are exact decimals from the API; the chart is for the eye only.
  async function loadBilling() {
    const period = params.get("billing_period") || new Date().toISOString().slice(0, 7);
    const bill = await getJson(`/api/v1/billing/periods/${encodeURIComponent(period)}`);
    const label = $("billing-label");
    label.dataset.total = String(bill.total_amount);
    label.textContent = `(${bill.period}, ${bill.status}${bill.closed_at ? " at " + bill.closed_at : ""}) · total ${money(bill.total_amount)}`;
    const body = document.querySelector("#billing tbody");
    body.replaceChildren();
    const lines = bill.lines;
    for (const l of lines) {
      const tr = document.createElement("tr");
      tr.dataset.campaign = l.campaign_id;
      tr.dataset.amount = String(l.amount);
      const kind = l.line_type === "adjustment" ? `adjustment of ${l.corrects_period}` : l.line_type;
      const billable = l.billing_model === "CPM" ? `${count(l.billable_impressions)} impressions` : `${count(l.billable_clicks)} clicks at ${l.cpc_rate}`;
      const excluded = l.billing_model === "CPM" ? l.excluded_impressions : l.excluded_clicks;
      const cells = [kind, l.campaign_id, l.version_start.slice(0, 16).replace("T", " "), l.billing_model, billable, money(l.amount),
        count(excluded), money(l.excluded_amount), `${count(l.lineage.event_count)} (sha256 ${l.lineage.events_sha256.slice(0, 12)}…)`,
        l.lineage.bronze_snapshot_id === null ? "not exported yet" : String(l.lineage.bronze_snapshot_id)];
      for (const c of cells) tr.appendChild(Object.assign(document.createElement("td"), { textContent: c }));
      body.appendChild(tr);
    }

    const div = document.querySelector('div[data-chart="billing"]');
    const names = lines.map(l => l.campaign_id + (l.line_type === "adjustment" ? " (adj.)" : ""));
    const bars = uPlot.paths.bars({ size: [0.35, 60] });
    plot(div, {
      width: 480, height: 200,
      legend: { show: true },
      scales: { x: { time: false, range: [-0.5, Math.max(names.length, 1) - 0.5] } },
      axes: [{ values: (u, splits) => splits.map(i => Number.isInteger(i) ? names[i] ?? "" : ""), incrs: [1] }, { values: (u, splits) => splits.map(money), size: 72 }],
      series: [{}, { label: "billed", stroke: COLORS[0], fill: COLORS[0], paths: bars, points: { show: false } },
        { label: "excluded", stroke: COLORS[3], fill: COLORS[3], paths: bars, points: { show: false } }],
    }, [names.map((_, i) => i), lines.map(l => l.amount), lines.map(l => l.excluded_amount)]);
    div.dataset.lines = String(lines.length);
  }

  async function loadPipeline() {
    try {
      const s = await getJson("/api/v1/pipeline/status");
      $("pipeline").querySelector('[data-testid="pipeline-lag"]').textContent = count(s.lag);
      $("pipeline").querySelector('[data-testid="pipeline-applied"]').textContent = count(s.events_applied);
      $("pipeline").querySelector('[data-testid="pipeline-lost"]').textContent = count(s.lost_messages);
      const last = s.last_applied_at ? new Date(s.last_applied_at) : null;
      $("pipeline").querySelector('[data-testid="pipeline-last"]').textContent = last ? last.toISOString() : "never";
      const fresh = $("pipeline").querySelector('[data-testid="pipeline-freshness"]');
      if (last) {
        const seconds = Math.max(0, Math.round((Date.now() - last.getTime()) / 1000));
        fresh.textContent = `${seconds} s since the last applied batch`;
        fresh.className = seconds > 60 ? "stale" : "fresh";
      } else {
        fresh.textContent = "nothing applied yet";
      }
      showSpool(s.spool, s.kafka_error);
    } catch (e) {
      $("pipeline").querySelector('[data-testid="pipeline-lag"]').textContent = "unavailable: " + e.message;
    }
  }

  // What this instance acknowledged and holds on disk until Kafka (or, on the embedded broker, the consumer) has it.
  function showSpool(spool, kafkaError) {
    const cell = (id) => $("pipeline").querySelector(`[data-testid="${id}"]`);
    if (!spool) {
      cell("pipeline-spool").textContent = "no tracking on this instance";
      return;
    }
    cell("pipeline-spool").textContent = `${bytes(spool.spool_bytes)} on disk, ${count(spool.entries_in_flight)} entries in flight`;
    const oldest = spool.oldest_spooled_at ? new Date(spool.oldest_spooled_at) : null;
    cell("pipeline-spool-age").textContent = oldest
      ? `${Math.max(0, Math.round((Date.now() - oldest.getTime()) / 1000))} s ago (${oldest.toISOString()})`
      : "none held";
    const problem = kafkaError || spool.last_error;
    cell("pipeline-forwarder").textContent = `${spool.mode}; ${count(spool.records_forwarded)} forwarded` + (problem ? `; last error: ${problem}` : "");
    cell("pipeline-forwarder").className = kafkaError ? "stale" : "";
  }

  function bytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
  }

  async function load() {
    const { from, to, fixed } = range();
    const bucket = to - from <= 72 * HOUR ? "hour" : "day";
    $("range-label").textContent = `${from.toISOString()} – ${to.toISOString()}`;
    $("range").disabled = fixed;
    const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
    // The panels in files of their own (fraud.js) load for the same range.
    document.dispatchEvent(new CustomEvent("dashboard:range", { detail: { from, to, bucket } }));
    try {
      const [byCampaign, series] = await Promise.all([
        getJson(`/api/v1/metrics?${q}&group_by=campaign_id`),
        getJson(`/api/v1/metrics?${q}&group_by=campaign_id,${bucket}`),
      ]);
      renderTotals(byCampaign.totals);
      renderTable(byCampaign.rows);
      renderCharts(series.rows, byCampaign.rows, from, to, bucket);
      $("error").textContent = "";
      await loadExperiments();
      await loadBilling();
      await loadPipeline();
      document.body.dataset.state = "ready";
    } catch (e) {
      $("error").textContent = e.message;
      document.body.dataset.state = "error";
    }
  }

  $("refresh").addEventListener("click", load);
  $("range").addEventListener("change", load);
  setInterval(load, 30000);
  load();
})();
