// The jobs table (filters, paging) and one job's detail: its frozen post,
// its timeline of events, cancel and retry, and its post's metrics chart.
import { metricsChart } from "./chart.js";
import { badge, h, replace, rfc3339, status, time } from "./dom.js";

const pageSize = 50;

// What an operator may do to a job in each status (the store refuses the
// rest with failed_precondition anyway).
const cancellable = new Set(["JOB_STATUS_PLANNED", "JOB_STATUS_RETRYING", "JOB_STATUS_DEAD"]);
const retryable = new Set(["JOB_STATUS_DEAD"]);

export function jobsView(ctx) {
  const $ = (id) => document.getElementById(id);
  let filter = {};
  let tokens = [""]; // page tokens of the pages visited, the current last
  let nextToken = "";
  let shown = new Map(); // id -> job on this page
  let loading = null;
  // The job the dialog shows: its id, the job, its events, its metrics
  // snapshots (undefined until read, null while being read).
  let openId = null;
  let detail = { job: null, events: [], metrics: undefined };

  function readFilter() {
    const statuses = $("job-status").value ? [$("job-status").value] : [];
    return {
      scheduleId: $("job-schedule").value.trim(),
      statuses,
      plannedFrom: rfc3339($("job-from").value),
      plannedTo: rfc3339($("job-to").value),
    };
  }

  async function load() {
    loading?.abort();
    loading = new AbortController();
    const resp = await ctx.read("Listing the jobs", "ListJobs",
      { ...filter, pageSize, pageToken: tokens.at(-1) }, loading.signal);
    if (!resp) return;
    shown = new Map((resp.jobs ?? []).map((j) => [j.id, j]));
    nextToken = resp.nextPageToken ?? "";
    render();
  }

  function render() {
    replace("job-rows", shown.size
      ? [...shown.values()].map(row)
      : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No jobs match.")));
    $("jobs-prev").disabled = tokens.length < 2;
    $("jobs-next").disabled = !nextToken;
    $("jobs-page").textContent = `page ${tokens.length}`;
  }

  function row(j) {
    return h("tr", { "data-testid": "job-row", "data-id": j.id },
      h("th", { scope: "row" }, h("button", { type: "button", class: "link", "data-testid": "job-open",
        "aria-label": `Job ${j.id}: show its timeline`, onclick: () => open(j.id) }, j.id)),
      h("td", {}, h("code", {}, j.scheduleId ?? "")),
      h("td", {}, time(j.plannedAt)),
      h("td", {}, badge(j.status)),
      h("td", { class: "num" }, String(j.attempt ?? 0)),
      h("td", {}, j.trigger ?? ""),
      h("td", {}, j.node ?? ""),
      h("td", { class: "error-cell" }, j.lastError ?? ""));
  }

  // matches says whether a job the stream reports belongs on this page:
  // jobs are listed by planned time, so a new one goes on the last page.
  function matches(j) {
    if (nextToken) return false;
    if (filter.scheduleId && j.scheduleId !== filter.scheduleId) return false;
    if (filter.statuses.length && !filter.statuses.includes(j.status)) return false;
    const at = Date.parse(j.plannedAt);
    if (filter.plannedFrom && at < Date.parse(filter.plannedFrom)) return false;
    if (filter.plannedTo && at >= Date.parse(filter.plannedTo)) return false;
    return true;
  }

  // onEvent updates the job's row in place (or adds a new job to the last
  // page) and the open timeline.
  function onEvent(event, job) {
    if (shown.has(job.id)) {
      shown.set(job.id, job);
      document.querySelector(`#job-rows tr[data-id="${job.id}"]`)?.replaceWith(row(job));
    } else if (matches(job)) {
      if (shown.size === 0) $("job-rows").replaceChildren();
      shown.set(job.id, job);
      $("job-rows").append(row(job));
    }
    if (job.id === openId && detail.job) {
      detail.job = job;
      if (event && !detail.events.some((e) => e.id === event.id)) detail.events.push(event);
      renderDetail();
      loadMetrics();
    }
  }

  async function open(id) {
    openId = id;
    detail = { job: null, events: [], metrics: undefined };
    $("job-title").textContent = `Job ${id}`;
    replace("job-detail", h("p", { class: "muted" }, "Loading…"));
    if (!$("job-dialog").open) $("job-dialog").showModal();
    const resp = await ctx.read(`Reading job ${id}`, "GetJob", { id });
    if (!resp?.job || openId !== id) return;
    detail.job = resp.job;
    detail.events = resp.events ?? [];
    renderDetail();
    loadMetrics();
  }

  // loadMetrics reads the open job's metrics once it has succeeded.
  async function loadMetrics() {
    const id = openId;
    if (detail.job?.status !== "JOB_STATUS_SUCCEEDED" || detail.metrics !== undefined) return;
    detail.metrics = null; // being read
    const m = await ctx.read(`Reading the metrics of job ${id}`, "GetPostMetrics", { id });
    if (openId !== id) return;
    detail.metrics = m ? m.snapshots ?? [] : undefined;
    renderDetail();
  }

  function renderDetail() {
    const { job, events, metrics } = detail;
    const field = (name, value) => [h("dt", {}, name), h("dd", {}, value)];
    replace("job-detail",
      h("dl", { class: "status" },
        field("schedule", h("code", {}, job.scheduleId ?? "")),
        field("status", badge(job.status)),
        field("planned", time(job.plannedAt)),
        field("due", time(job.dueAt)),
        field("trigger", job.trigger ?? ""),
        field("attempt", `${job.attempt ?? 0} (${job.failures ?? 0} failed)`),
        job.postIds?.length ? field("posts", job.postIds.join(", ")) : null,
        field("first sent", job.firstSentAt ? time(job.firstSentAt) : h("span", { class: "muted" }, "never")),
        job.deadReason ? field("dead because", job.deadReason) : null,
        job.lastError ? field("last error", h("span", { class: "error-text" }, job.lastError)) : null,
        field("correlation id", h("code", {}, job.correlationId ?? ""))),
      h("div", { class: "actions admin-only" },
        retryable.has(job.status)
          ? h("button", { type: "button", "data-testid": "job-retry", onclick: (e) => mutate(e, "RetryJob", job.id) }, "Retry")
          : null,
        cancellable.has(job.status)
          ? h("button", { type: "button", class: "danger", "data-testid": "job-cancel", onclick: (e) => mutate(e, "CancelJob", job.id) }, "Cancel")
          : null),
      h("h3", {}, "Post"),
      frozenPost(job.post),
      h("h3", {}, "Timeline"),
      h("table", { "data-testid": "timeline" },
        h("thead", {}, h("tr", {}, ["time", "transition", "node", "attempt", "detail"].map((c) => h("th", { scope: "col", class: c === "attempt" ? "num" : null }, c)))),
        h("tbody", {}, events.map((e) => h("tr", { "data-testid": "timeline-row" },
          h("td", {}, time(e.at)),
          h("td", {}, e.from && e.from !== "JOB_STATUS_UNSPECIFIED" ? [badge(e.from), " → "] : "created → ", badge(e.to)),
          h("td", {}, e.node ?? ""),
          h("td", { class: "num" }, String(e.attempt ?? 0)),
          h("td", {}, e.detail ?? ""))))),
      h("h3", {}, "Post metrics"),
      metrics
        ? metricsChart(metrics)
        : h("p", { class: "muted" }, job.status === "JOB_STATUS_SUCCEEDED"
          ? "Loading…"
          : "Metrics are captured after a post is published."));
  }

  // frozenPost shows the post frozen on the job, exactly as every attempt
  // publishes it: the account, each text of the thread, and each media
  // with what its upload recorded.
  function frozenPost(p) {
    if (!p) {
      return h("p", { class: "muted", "data-testid": "frozen-post" },
        "Not frozen yet: the post is rendered when the fire is recorded, or at the job's first claim.");
    }
    const texts = p.texts ?? [];
    return h("div", { "data-testid": "frozen-post" },
      h("p", {}, "As ", h("code", { "data-testid": "post-account" }, p.account ?? ""),
        texts.length > 1 ? `, a thread of ${texts.length} posts:` : ":"),
      h("ol", { class: "thread", "data-testid": "post-texts" }, texts.map((t) => h("li", { class: "post-text" }, t))),
      p.media?.length
        ? h("table", { "data-testid": "post-media" },
          h("thead", {}, h("tr", {}, ["file", "alt text", "uploaded", "media id", "expires"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, p.media.map((m) => h("tr", { "data-testid": "post-media-row" },
            h("td", {}, h("code", {}, m.path ?? "")),
            h("td", {}, m.alt ?? ""),
            h("td", {}, m.digest ? [h("code", {}, m.digest), ` (${m.size ?? 0} bytes)`] : h("span", { class: "muted" }, "not yet")),
            h("td", {}, m.mediaId ? h("code", {}, m.mediaId) : ""),
            h("td", {}, m.expiresAt ? time(m.expiresAt) : "")))))
        : null);
  }

  // mutate cancels or retries a job (from the dialog or a dead letter).
  async function mutate(event, method, id) {
    const what = method === "RetryJob" ? `Retrying job ${id}` : `Cancelling job ${id}`;
    const resp = await ctx.act(event.currentTarget, what, method, { id });
    if (!resp?.job) return;
    ctx.notice(`Job ${id} is ${status(resp.job.status)}.`);
    ctx.jobChanged(resp.job);
  }

  function close() {
    openId = null;
    if ($("job-dialog").open) $("job-dialog").close();
  }

  $("job-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    filter = readFilter();
    tokens = [""];
    load();
  });
  $("job-filter").addEventListener("reset", () => {
    tokens = [""];
    // The reset clears the fields after this event.
    setTimeout(() => { filter = readFilter(); load(); });
  });
  $("jobs-next").addEventListener("click", () => { tokens.push(nextToken); load(); });
  $("jobs-prev").addEventListener("click", () => { if (tokens.length > 1) tokens.pop(); load(); });
  $("job-close").addEventListener("click", close);
  $("job-dialog").addEventListener("close", () => { openId = null; });

  filter = readFilter();
  return { load, onEvent, open, close, mutate };
}
