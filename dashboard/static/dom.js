// Small DOM and formatting helpers. Every value the API returns reaches
// the page as text (textContent, attributes), never as HTML.

// h builds an element: h("button", {class: "x", onclick: f}, "Pause").
// Attributes starting with "on" become listeners; null and false ones are
// left out; children may be strings, nodes, arrays, null or undefined.
export function h(tag, attrs = {}, ...children) {
  const el = tag === "svg" || svgTags.has(tag)
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

const svgTags = new Set(["g", "line", "polyline", "circle", "text", "title", "rect", "path"]);

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// replace swaps the children of the element with the given id.
export function replace(id, ...children) {
  const el = document.getElementById(id);
  el.replaceChildren();
  append(el, children);
  return el;
}

// time shows an RFC 3339 timestamp in the reader's time zone, with the
// exact UTC instant as a tooltip; "—" when absent.
export function time(ts) {
  if (!ts) return h("span", { class: "muted" }, "—");
  const d = new Date(ts);
  const pad = (n) => String(n).padStart(2, "0");
  const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return h("time", { datetime: ts, title: ts }, text);
}

// duration turns a protobuf JSON Duration ("3600s", "1.5s") into "1h",
// "1h30m", "1.5s".
export function duration(d) {
  if (!d) return "";
  let s = parseFloat(d);
  if (!Number.isFinite(s)) return d;
  if (s === 0) return "0s";
  const parts = [];
  for (const [unit, n] of [["d", 86400], ["h", 3600], ["m", 60]]) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${unit}`);
      s %= n;
    }
  }
  if (s > 0) parts.push(`${Math.round(s * 1000) / 1000}s`);
  return parts.join("");
}

// status turns "JOB_STATUS_SUCCEEDED" into "succeeded".
export function status(s) {
  return (s ?? "JOB_STATUS_UNSPECIFIED").replace(/^JOB_STATUS_/, "").toLowerCase();
}

// badge shows a job status with a colour class of its own.
export function badge(s) {
  const name = status(s);
  return h("span", { class: `badge status-${name}`, "data-testid": "job-status" }, name);
}

// rfc3339 turns the value of an <input type="datetime-local"> (local
// time) into an RFC 3339 UTC string; undefined when empty.
export function rfc3339(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
