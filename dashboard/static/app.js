// The dashboard's entry point: the session (token, log in, log out), the
// node's status, its accounts and the nodes, reload, and the live stream
// that feeds the other views (schedules, jobs, dead letters).
import { APIError, Client } from "./api.js";
import { h, replace, time } from "./dom.js";
import { renderAccounts } from "./accounts.js";
import { startLive } from "./live.js";
import { schedulesView } from "./schedules.js";
import { jobsView } from "./jobs.js";
import { deadLettersView } from "./deadletters.js";

const tokenKey = "herald.adminToken";
const $ = (id) => document.getElementById(id);

// How often the status and the nodes are read again: heartbeats and
// reloads change them without a job event.
const statusEvery = 15000;

const api = new Client(() => sessionStorage.getItem(tokenKey));

// ctx is what every view gets: the API and the page's ways of reporting.
const ctx = {
  api,
  error: showError,
  notice: showNotice,
  // act runs a mutation for a button: the button is busy meanwhile; a
  // permission_denied hides every action (a read-only token); other
  // errors are shown. Resolves to the response, or undefined on error.
  async act(button, what, method, request) {
    if (button) button.disabled = true;
    try {
      return await api.call(method, request);
    } catch (err) {
      if (err.code === "permission_denied") setReadOnly(true);
      fail(err, what);
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  },
  // read runs a read and reports a failure; undefined on error.
  async read(what, method, request, signal) {
    try {
      return await api.call(method, request, signal);
    } catch (err) {
      if (err.name !== "AbortError") fail(err, what);
      return undefined;
    }
  },
  openJob: (id) => jobs.open(id),
  mutateJob: (event, method, id) => jobs.mutate(event, method, id),
  // jobChanged spreads a job a mutation returned to every view (the
  // stream brings it too, a moment later).
  jobChanged(job) {
    schedules.onJob(job);
    jobs.onEvent(null, job);
    dead.onJob(job);
  },
};

const schedules = schedulesView(ctx);
const jobs = jobsView(ctx);
const dead = deadLettersView(ctx);
let stopLive = null;
let statusTimer = null;

function fail(err, what) {
  if (err.code === "unauthenticated") {
    sessionStorage.removeItem(tokenKey);
    leave();
    showLogin("The token is no longer accepted: log in again.");
    return;
  }
  showError(`${what} failed: ${err instanceof APIError ? err.message : String(err)}`);
}

function showError(text) {
  $("error-text").textContent = text;
  $("error").hidden = false;
}

function showNotice(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

function setReadOnly(on) {
  document.body.classList.toggle("read-only", on);
  $("read-only").hidden = !on;
}

// boot asks for the status with whatever token the tab has (maybe none):
// a server without tokens configured needs no login at all.
async function boot() {
  let status;
  try {
    status = await api.call("GetStatus");
  } catch (err) {
    if (err.code === "unauthenticated") {
      const had = sessionStorage.getItem(tokenKey);
      sessionStorage.removeItem(tokenKey);
      showLogin(had ? "The saved token was not accepted: log in again." : "");
      return;
    }
    showError(`Cannot read the node's status: ${err.message}`);
    $("app").hidden = true;
    return;
  }
  enter(status);
}

function showLogin(message) {
  $("app").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").focus();
}

async function login(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) return;
  sessionStorage.setItem(tokenKey, token);
  $("login-error").textContent = "";
  try {
    const status = await api.call("GetStatus");
    $("token").value = "";
    enter(status);
  } catch (err) {
    sessionStorage.removeItem(tokenKey);
    $("login-error").textContent = err.code === "unauthenticated"
      ? "That token was not accepted."
      : `Cannot log in: ${err.message}`;
    $("token").select();
  }
}

function enter(status) {
  leave();
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = !sessionStorage.getItem(tokenKey);
  $("error").hidden = true;
  renderStatus(status);
  loadNodes();
  schedules.load();
  jobs.load();
  dead.load();
  statusTimer = setInterval(refreshStatus, statusEvery);
  stopLive = startLive(api, {
    onMessage(msg) {
      if (!msg.job) return;
      schedules.onJob(msg.job);
      jobs.onEvent(msg.event, msg.job);
      dead.onJob(msg.job);
    },
    onState(state) {
      $("live").textContent = state;
      $("live").dataset.state = state;
    },
    onReconnect() {
      // Events missed before the first one seen are not replayed: read
      // everything again.
      refreshStatus();
      schedules.load();
      jobs.load();
      dead.load();
    },
    onFatal(err) {
      fail(err, "Live updates");
    },
  });
}

// leave stops everything that runs while the app is shown.
function leave() {
  stopLive?.();
  stopLive = null;
  clearInterval(statusTimer);
  statusTimer = null;
  setReadOnly(false);
  showNotice("");
  $("live").textContent = "offline";
  $("live").dataset.state = "offline";
  $("app").hidden = true;
  $("logout").hidden = true;
  jobs.close();
}

function logout() {
  sessionStorage.removeItem(tokenKey);
  leave();
  $("error").hidden = true;
  boot();
}

async function refreshStatus() {
  const status = await ctx.read("Reading the status", "GetStatus");
  if (status) renderStatus(status);
  loadNodes();
}

function renderStatus(s) {
  const r = s.lastReload ?? {};
  $("node-line").textContent = [s.nodeId && `node ${s.nodeId}`, s.version, s.configRevision && `config ${short(s.configRevision)}`,
    s.dryRun && "dry run"].filter(Boolean).join(" · ");
  const health = (x) => (x ? (x.detail ? `${x.state}: ${x.detail}` : x.state) : "—");
  const row = (name, value, testid) => [h("dt", {}, name), h("dd", { "data-testid": testid }, value)];
  replace("status",
    row("node", s.nodeId ?? "—", "status-node"),
    row("version", s.version ?? "—"),
    row("started", time(s.startedAt)),
    row("config revision", h("code", {}, s.configRevision ?? "—"), "config-revision"),
    s.configCommit && row("config commit", h("code", {}, s.configCommit)),
    row("schedules loaded", String(s.schedulesLoaded ?? 0)),
    row("mode", s.dryRun ? "dry run (nothing is published)" : "publishing"),
    row("store", health(s.store)),
    row("redis", health(s.redis)),
    (s.warnings ?? []).map((w) => row("warning", h("strong", { class: "bad" }, w), "status-warning")),
    row("last reload", r.result
      ? [h("span", { class: `result-${r.result}` }, r.result), ` (${r.trigger ?? "?"}, `, time(r.at),
        `; +${r.added ?? 0} −${r.removed ?? 0} ~${r.changed ?? 0})`]
      : "—", "last-reload"));
  renderReloadErrors(r);
  renderAccounts(s.accounts ?? []);
}

// renderReloadErrors shows a failed reload above everything else: the
// node keeps running the previous revision, and whoever broke the file
// needs to know.
function renderReloadErrors(r) {
  const box = $("reload-errors");
  if (r.result !== "error") {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    h("h2", {}, "The last configuration reload failed"),
    h("p", {}, `Trigger: ${r.trigger ?? "?"}, at `, time(r.at),
      `. Still running revision ${r.revision ? short(r.revision) : "(none)"}.`),
    h("ul", { "data-testid": "reload-error-list" }, (r.errors ?? []).map((e) => h("li", {}, h("code", {}, e)))));
  box.hidden = false;
}

async function loadNodes() {
  const resp = await ctx.read("Listing the nodes", "ListNodes");
  if (!resp) return;
  // A live node whose revision is not the most common among the live
  // nodes runs another checkout of the configuration: marked, with why.
  replace("node-rows", (resp.nodes ?? []).map((n) => h("tr", { "data-testid": "node-row", "data-id": n.id },
    h("td", {}, n.id), h("td", {}, n.address ?? ""), h("td", {}, n.version ?? ""),
    h("td", {}, h("code", {}, short(n.configRevision ?? "")), n.revisionMismatch
      ? [" ", h("strong", { class: "bad", "data-testid": "revision-mismatch",
        title: "runs a configuration revision other than the most common among live nodes" }, "≠ cluster")]
      : null),
    h("td", {}, time(n.startedAt)), h("td", {}, time(n.lastSeen)),
    h("td", {}, n.alive ? "yes" : h("strong", { class: "bad" }, "no")),
    h("td", {}, n.redisHealth || "none"), h("td", {}, n.storeHealth ?? "—"),
    h("td", {}, String(n.jobsInFlight ?? 0)))));
}

async function reload(event) {
  const resp = await ctx.act(event.currentTarget, "Reload", "Reload");
  if (!resp) return;
  const r = resp.result ?? {};
  showNotice(r.result === "ok"
    ? `Reloaded: revision ${short(r.revision ?? "")}, +${r.added ?? 0} −${r.removed ?? 0} ~${r.changed ?? 0}.`
    : "The reload failed: the previous configuration keeps running.");
  refreshStatus();
  if (r.result === "ok") schedules.load();
}

const short = (rev) => (rev.length > 12 ? rev.slice(0, 12) : rev);

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", logout);
$("reload").addEventListener("click", reload);
$("error-close").addEventListener("click", () => { $("error").hidden = true; });
boot();
