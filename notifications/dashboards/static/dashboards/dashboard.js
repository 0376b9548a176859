/*
 * dashboard.js: renders one live dashboard page from its "state" events (docs/dashboards.md).
 * Plain ES2017, no dependencies: the chart is an inline SVG drawn here. Uses the page's
 * socket, window.hub (templates/base.html), and the JSON config in #dashboard-config:
 *   {name, topic, kpis: [[field, label]], chart: field|null, table: field|null, columns: [[key, label]],
 *    state_url}
 * Each "state" event carries {dashboard, values: {field: value}, points: [[ms, value]], at}.
 * When the topic is reset (its history was lost), the page reads the same state from
 * config.state_url and shows it unless a newer push came first; resets that come together
 * make one request. #dashboard[data-updated] is the `at` of the state shown.
 * #dashboard[data-state] is "connecting", "subscribed", "forbidden" or "closed".
 */
(function () {
  "use strict";

  const RESYNC_DELAY_MS = 100; // after a Redis restart every stream of the socket resets at once
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 640, HEIGHT = 200, PAD = {left: 56, right: 12, top: 12, bottom: 24};
  const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;
  const config = JSON.parse(document.getElementById("dashboard-config").textContent);
  const root = document.getElementById("dashboard");
  const status = document.getElementById("dashboard-status");
  const chart = document.getElementById("chart");
  const tbody = document.querySelector("#table tbody");
  const hub = window.hub;

  function setState(state, text) {
    root.dataset.state = state;
    status.textContent = text;
  }

  function format(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number") {
      const decimals = Number.isInteger(value) ? 0 : 2;
      return value.toLocaleString(undefined, {minimumFractionDigits: decimals, maximumFractionDigits: decimals});
    }
    if (typeof value === "string" && ISO_DATE.test(value)) return new Date(value).toLocaleTimeString();
    return String(value);
  }

  function svg(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawChart(points) {
    const values = points.map((point) => point[1]);
    const times = points.map((point) => point[0]);
    const [low, high] = [Math.min(...values, 0), Math.max(...values, 1)];
    const [first, last] = [Math.min(...times), Math.max(...times)];
    const x = (t) => PAD.left + (last > first ? (t - first) / (last - first) : 1) * (WIDTH - PAD.left - PAD.right);
    const y = (v) => HEIGHT - PAD.bottom - ((v - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
    const nodes = [
      svg("line", {x1: PAD.left, y1: y(low), x2: WIDTH - PAD.right, y2: y(low), stroke: "#ccc"}),
      svg("text", {x: PAD.left - 6, y: y(high) + 4, "text-anchor": "end"}, format(high)),
      svg("text", {x: PAD.left - 6, y: y(low) + 4, "text-anchor": "end"}, format(low)),
    ];
    if (points.length) {
      nodes.push(svg("text", {x: WIDTH - PAD.right, y: HEIGHT - 6, "text-anchor": "end"},
        new Date(last).toLocaleTimeString()));
      nodes.push(svg("polyline", {points: points.map(([t, v]) => `${x(t)},${y(v)}`).join(" ")}));
    }
    for (const [t, v] of points) nodes.push(svg("circle", {cx: x(t), cy: y(v), r: 2.5, "data-value": v}));
    chart.replaceChildren(...nodes);
    chart.dataset.points = String(points.length);
  }

  function fillTable(rows) {
    // textContent only: rows may hold text that users typed.
    rows = Array.isArray(rows) ? rows : [];
    const empty = document.getElementById("dashboard-empty");
    if (empty) empty.hidden = rows.length > 0;
    tbody.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      for (const [key] of config.columns) {
        const td = document.createElement("td");
        td.textContent = format(row && typeof row === "object" ? row[key] : undefined);
        tr.append(td);
      }
      return tr;
    }));
  }

  function show(data) {
    const values = data.values || {};
    for (const [field] of config.kpis) {
      const node = root.querySelector(`[data-kpi="${field}"]`);
      if (node) node.textContent = format(values[field]);
    }
    if (chart) drawChart(Array.isArray(data.points) ? data.points : []);
    if (tbody) fillTable(values[config.table]);
    root.dataset.updated = String(data.at);
  }

  function render(frame) {
    if (frame.event !== "state" || !frame.data || typeof frame.data !== "object") return;
    show(frame.data);
  }

  let timer = null;
  let loading = false;
  let again = false; // a reset came while a request was out

  function resync() {
    if (loading) again = true;
    else if (timer === null) timer = setTimeout(load, RESYNC_DELAY_MS);
  }

  function load() {
    timer = null;
    loading = true;
    again = false;
    fetch(config.state_url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((data) => {
        // A push that arrived while the request was out may be newer than this read.
        if (!(Number(root.dataset.updated) > data.at)) show(data);
      })
      .catch((error) => console.warn("dashboard: could not re-sync after a reset:", error))
      .then(() => {
        loading = false;
        if (again) resync();
      });
  }

  hub.onFrame("subscribed", (frame) => {
    if (frame.topic === config.topic) setState("subscribed", "");
  });
  hub.onFrame("reset", (frame) => {
    if (frame.topic === config.topic) resync();
  });
  hub.onFrame("close", (frame) => {
    if (frame.reconnecting) setState("connecting", "Connection lost; reconnecting…");
    else setState("closed", `Disconnected (${frame.code}). Reload the page to follow the dashboard again.`);
  });
  hub.subscribe(config.topic, render).catch((error) => {
    setState(error.code === "forbidden" ? "forbidden" : "closed", `Error (${error.code}): ${error.message}`);
  });
})();
