// The schedules table: filter, pause (with a note), resume, trigger, and
// each schedule's last outcome kept current by the live stream.
import { badge, h, replace, rfc3339, status, time } from "./dom.js";

const pageSize = 100;
// Live events touch schedules often (an every-second schedule fires every
// second); their next fire is read again at most this often.
const refreshEvery = 3000;

export function schedulesView(ctx) {
  const $ = (id) => document.getElementById(id);
  const rows = new Map(); // id -> schedule, in table order
  let nextToken = "";
  let loading = null; // AbortController of the list in flight
  let filterTimer = null;
  let pausing = null; // the schedule the pause dialog is for
  const stale = new Set(); // ids whose next fire moved
  let staleTimer = null;

  async function load(more = false) {
    loading?.abort();
    loading = new AbortController();
    const resp = await ctx.read("Listing the schedules", "ListSchedules", {
      filter: $("schedule-filter-text").value.trim(),
      pausedOnly: $("paused-only").checked,
      pageSize,
      pageToken: more ? nextToken : "",
    }, loading.signal);
    if (!resp) return;
    if (!more) rows.clear();
    for (const s of resp.schedules ?? []) rows.set(s.id, s);
    nextToken = resp.nextPageToken ?? "";
    render(resp.totalSize ?? rows.size);
  }

  function render(total) {
    replace("schedule-rows", rows.size
      ? [...rows.values()].map(row)
      : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No schedules match.")));
    $("schedules-more").hidden = !nextToken;
    $("schedules-count").textContent = `${total} schedule${total === 1 ? "" : "s"}`;
    replace("schedule-ids", [...rows.keys()].map((id) => h("option", { value: id })));
  }

  function row(s) {
    const paused = Boolean(s.pause);
    return h("tr", { "data-testid": "schedule-row", "data-id": s.id, class: paused ? "paused" : null },
      // proto3 JSON leaves false out: a missing "enabled" is enabled: false.
      h("th", { scope: "row", title: s.source ? `${s.source.file}:${s.source.line}` : null },
        h("code", {}, s.id), s.enabled ? null : h("span", { class: "tag", "data-testid": "disabled" }, "disabled")),
      h("td", {}, s.account ?? ""),
      h("td", {}, h("span", { class: "tag" }, s.kind ?? ""), " ", h("code", {}, s.expr ?? ""),
        s.timezone ? h("span", { class: "muted" }, ` ${s.timezone}`) : null),
      h("td", { "data-testid": "next-fire" }, time(s.nextFire)),
      h("td", { "data-testid": "last-outcome" }, s.lastJob
        ? [badge(s.lastJob.status), " ", h("button", { type: "button", class: "link", onclick: () => ctx.openJob(s.lastJob.id) },
          `job ${s.lastJob.id}`)]
        : h("span", { class: "muted" }, "no job yet")),
      h("td", { "data-testid": "paused" }, paused ? pauseText(s.pause) : "no"),
      h("td", { class: "actions admin-only" },
        paused
          ? h("button", { type: "button", "data-testid": "resume", onclick: (e) => resume(e, s.id) }, "Resume")
          : h("button", { type: "button", "data-testid": "pause", onclick: () => openPause(s.id) }, "Pause"),
        h("button", { type: "button", class: "secondary", "data-testid": "trigger", onclick: (e) => trigger(e, s.id) }, "Trigger")));
  }

  function pauseText(p) {
    return h("span", { class: "paused-text" }, h("strong", {}, "paused"),
      p.note ? ` — ${p.note}` : "", p.until ? [" until ", time(p.until)] : "");
  }

  // update replaces one schedule's row in place.
  function update(s) {
    const old = rows.get(s.id);
    if (!old) return;
    if (!s.lastJob && old.lastJob) s.lastJob = old.lastJob;
    rows.set(s.id, s);
    document.querySelector(`#schedule-rows tr[data-id="${CSS.escape(s.id)}"]`)?.replaceWith(row(s));
  }

  function openPause(id) {
    pausing = id;
    $("pause-title").textContent = `Pause ${id}`;
    $("pause-note").value = "";
    $("pause-until").value = "";
    $("pause-dialog").showModal();
    $("pause-note").focus();
  }

  async function confirmPause(event) {
    event.preventDefault();
    const id = pausing;
    $("pause-dialog").close();
    const resp = await ctx.act(null, `Pausing ${id}`, "PauseSchedule",
      { id, note: $("pause-note").value.trim(), until: rfc3339($("pause-until").value) });
    if (resp?.schedule) update(resp.schedule);
  }

  async function resume(event, id) {
    const resp = await ctx.act(event.currentTarget, `Resuming ${id}`, "ResumeSchedule", { id });
    if (resp?.schedule) update(resp.schedule);
  }

  async function trigger(event, id) {
    const resp = await ctx.act(event.currentTarget, `Triggering ${id}`, "TriggerSchedule", { id });
    if (resp?.job) ctx.notice(`Triggered ${id}: job ${resp.job.id} is ${status(resp.job.status)}.`);
  }

  // onJob shows a job's transition as its schedule's last outcome, and
  // marks the schedule's next fire for a fresh read.
  function onJob(job) {
    const s = rows.get(job.scheduleId);
    if (!s) return;
    if (!s.lastJob || BigInt(job.id) >= BigInt(s.lastJob.id)) update({ ...s, lastJob: job });
    stale.add(job.scheduleId);
    staleTimer ??= setTimeout(refreshStale, refreshEvery);
  }

  async function refreshStale() {
    staleTimer = null;
    const ids = [...stale];
    stale.clear();
    if (ids.length > 20) return load();
    for (const id of ids) await refreshOne(id);
  }

  async function refreshOne(id) {
    if (!rows.has(id)) return;
    const resp = await ctx.read(`Reading ${id}`, "GetSchedule", { id, next: 1, jobs: 1 });
    if (resp?.schedule) update(resp.schedule);
  }

  $("schedule-filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("schedule-filter-text").addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => load(), 250);
  });
  $("paused-only").addEventListener("change", () => load());
  $("schedules-more").addEventListener("click", () => load(true));
  $("pause-form").addEventListener("submit", confirmPause);
  $("pause-cancel").addEventListener("click", () => $("pause-dialog").close());

  return { load, onJob, refreshOne };
}
