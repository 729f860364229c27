// The dashboard: reads /api/v1/metrics and /api/v1/pipeline/status and draws plain SVG. No build step, no library.
(() => {
  "use strict";
  const HOUR = 3600 * 1000;
  const DAY = 24 * HOUR;
  const MAX_SERIES = 8;
  const COLORS = ["#2e90fa", "#f79009", "#12b76a", "#f04438", "#7a5af8", "#0e9384", "#ee46bc", "#667085"];
  const SVG = "http://www.w3.org/2000/svg";
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

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderChart(svg, chart, campaigns, times, cells, step) {
    const W = 480, H = 220, L = 56, R = 10, T = 10, B = 28;
    svg.replaceChildren();
    const values = campaigns.map(c => times.map(t => {
      const row = cells.get(c + "\u0000" + t);
      if (!row) return chart.ratio ? null : 0;
      return row[chart.key];
    }));
    const all = values.flat().filter(v => v !== null && v !== undefined);
    const max = Math.max(...all, 0) || 1;
    const x = i => L + (times.length <= 1 ? (W - L - R) / 2 : i * (W - L - R) / (times.length - 1));
    const y = v => T + (H - T - B) * (1 - v / max);
    svg.appendChild(el("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
    svg.appendChild(el("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
    svg.appendChild(el("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, chart.format(max)));
    svg.appendChild(el("text", { x: L - 4, y: H - B, "text-anchor": "end" }, chart.format(0)));
    const label = t => step === HOUR ? new Date(t).toISOString().slice(5, 13).replace("T", " ") + "h" : new Date(t).toISOString().slice(0, 10);
    if (times.length > 0) {
      svg.appendChild(el("text", { x: L, y: H - 8, "text-anchor": "start" }, label(times[0])));
      svg.appendChild(el("text", { x: W - R, y: H - 8, "text-anchor": "end" }, label(times[times.length - 1])));
    }
    campaigns.forEach((c, k) => {
      let d = "", pen = false, points = 0;
      values[k].forEach((v, i) => {
        if (v === null || v === undefined) { pen = false; return; }
        d += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1) + " ";
        pen = true;
        points++;
      });
      if (points === 0) return;
      const path = el("path", { class: "series", d: d.trim(), stroke: COLORS[k % COLORS.length], "data-campaign": c, "data-points": points });
      path.appendChild(el("title", {}, c));
      svg.appendChild(path);
      if (points === 1) {
        const i = values[k].findIndex(v => v !== null && v !== undefined);
        svg.appendChild(el("circle", { cx: x(i), cy: y(values[k][i]), r: 3, fill: COLORS[k % COLORS.length] }));
      }
    });
    svg.dataset.series = String(svg.querySelectorAll("path.series").length);
  }

  function renderCharts(rows, totalsByCampaign, from, to, bucket) {
    const step = bucket === "hour" ? HOUR : DAY;
    const times = buckets(from, to, step);
    const campaigns = [...totalsByCampaign].sort((a, b) => b.cost - a.cost || b.impressions - a.impressions)
      .slice(0, MAX_SERIES).map(r => r.campaign_id ?? "(none)");
    const cells = new Map(rows.map(r => [(r.campaign_id ?? "(none)") + "\u0000" + Date.parse(r[bucket]), r]));
    for (const chart of CHARTS) renderChart(document.querySelector(`svg[data-chart="${chart.key}"]`), chart, campaigns, times, cells, step);
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
    try {
      const [byCampaign, series] = await Promise.all([
        getJson(`/api/v1/metrics?${q}&group_by=campaign_id`),
        getJson(`/api/v1/metrics?${q}&group_by=campaign_id,${bucket}`),
      ]);
      renderTotals(byCampaign.totals);
      renderTable(byCampaign.rows);
      renderCharts(series.rows, byCampaign.rows, from, to, bucket);
      $("error").textContent = "";
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
