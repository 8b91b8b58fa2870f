// Dead letters: the jobs in `dead`, with Retry and Cancel, kept current
// by the live stream (a job that dies appears, one retried or cancelled
// goes).
import { h, replace, time } from "./dom.js";

const pageSize = 100;

export function deadLettersView(ctx) {
  const $ = (id) => document.getElementById(id);
  const rows = new Map(); // id -> job
  let nextToken = "";

  async function load(more = false) {
    const resp = await ctx.read("Listing the dead letters", "ListDeadLetters",
      { pageSize, pageToken: more ? nextToken : "" });
    if (!resp) return;
    if (!more) rows.clear();
    for (const j of resp.jobs ?? []) rows.set(j.id, j);
    nextToken = resp.nextPageToken ?? "";
    render();
  }

  function render() {
    replace("dead-rows", rows.size
      ? [...rows.values()].map(row)
      : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No dead letters.")));
    $("dead-more").hidden = !nextToken;
  }

  function row(j) {
    return h("tr", { "data-testid": "dead-row", "data-id": j.id },
      h("th", { scope: "row" }, h("button", { type: "button", class: "link", onclick: () => ctx.openJob(j.id) }, j.id)),
      h("td", {}, h("code", {}, j.scheduleId ?? "")),
      h("td", {}, time(j.plannedAt)),
      h("td", {}, j.deadReason ?? ""),
      h("td", { class: "num" }, String(j.failures ?? 0)),
      h("td", { class: "error-cell" }, j.lastError ?? ""),
      h("td", { class: "actions admin-only" },
        h("button", { type: "button", "data-testid": "dead-retry", onclick: (e) => ctx.mutateJob(e, "RetryJob", j.id) }, "Retry"),
        h("button", { type: "button", class: "danger", "data-testid": "dead-cancel", onclick: (e) => ctx.mutateJob(e, "CancelJob", j.id) }, "Cancel")));
  }

  // onJob adds a job that died and removes one that left `dead`.
  function onJob(job) {
    if (job.status === "JOB_STATUS_DEAD") rows.set(job.id, job);
    else if (!rows.delete(job.id)) return;
    render();
  }

  $("dead-more").addEventListener("click", () => load(true));
  return { load, onJob };
}
