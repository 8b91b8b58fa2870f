// A post's metrics over its capture stages as inline SVG: one small line
// chart per metric, each with its own scale (impressions run into the
// thousands while replies stay in single digits, so one shared axis would
// flatten all but one line), and the numbers again in a table for screen
// readers and for copying.
import { h, duration } from "./dom.js";

export const metricNames = ["likes", "reposts", "replies", "impressions"];

const width = 220;
const height = 120;
const pad = { top: 16, right: 12, bottom: 24, left: 12 };

// metricsChart renders the snapshots (GetPostMetrics) of one job; a
// thread's posts each get their own row of charts.
export function metricsChart(snapshots) {
  if (!snapshots?.length) {
    return h("p", { class: "muted", "data-testid": "metrics-empty" }, "No metrics captured yet.");
  }
  const byPost = new Map();
  for (const s of snapshots) {
    if (!byPost.has(s.postId)) byPost.set(s.postId, []);
    byPost.get(s.postId).push(s);
  }
  const sections = [];
  for (const [postId, snaps] of byPost) {
    snaps.sort((a, b) => parseFloat(a.stage ?? "0") - parseFloat(b.stage ?? "0"));
    sections.push(h("figure", { class: "metrics", "data-testid": "metrics-chart" },
      h("figcaption", {}, `Post ${postId}: metrics by stage`),
      h("div", { class: "charts" }, metricNames.map((m) => lineChart(m, snaps))),
      table(snaps)));
  }
  return sections;
}

function lineChart(metric, snaps) {
  const values = snaps.map((s) => Number(s[metric] ?? 0));
  const max = Math.max(1, ...values);
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const x = (i) => pad.left + (snaps.length === 1 ? innerW / 2 : (i * innerW) / (snaps.length - 1));
  const y = (v) => pad.top + innerH - (v / max) * innerH;
  const points = values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
  const label = `${metric}: ` + snaps.map((s, i) => `${values[i]} at ${duration(s.stage)}`).join(", ");
  return h("svg", {
    class: `chart chart-${metric}`, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": label, "data-testid": `chart-${metric}`,
  },
  h("title", {}, label),
  h("text", { x: pad.left, y: 11, class: "chart-title" }, `${metric} (max ${max})`),
  h("line", { x1: pad.left, y1: pad.top + innerH, x2: width - pad.right, y2: pad.top + innerH, class: "axis" }),
  h("polyline", { points, class: "series" }),
  values.map((v, i) => h("circle", { cx: x(i), cy: y(v), r: 3, class: "point" },
    h("title", {}, `${metric} at ${duration(snaps[i].stage)}: ${v}`))),
  snaps.map((s, i) => h("text", { x: x(i), y: height - 6, class: "tick" }, duration(s.stage))));
}

function table(snaps) {
  return h("table", { class: "metrics-table" },
    h("caption", { class: "visually-hidden" }, "Metrics by stage"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "stage"),
      metricNames.map((m) => h("th", { scope: "col", class: "num" }, m)))),
    h("tbody", {}, snaps.map((s) => h("tr", {},
      h("th", { scope: "row" }, duration(s.stage)),
      metricNames.map((m) => h("td", { class: "num" }, s[m] ?? "0"))))));
}
