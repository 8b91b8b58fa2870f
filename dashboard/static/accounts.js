// The configured accounts and the state of their credentials (from
// GetStatus): a table in the node section, and a banner above everything
// while an account may need re-authorization.
import { h, replace, time } from "./dom.js";

// authState turns "AUTH_STATE_REAUTH_REQUIRED" into "reauth_required".
export function authState(s) {
  return (s ?? "AUTH_STATE_UNSPECIFIED").replace(/^AUTH_STATE_/, "").toLowerCase();
}

// What an operator should do about each state but ok.
const hints = {
  AUTH_STATE_REFRESH_IN_PROGRESS_FOUND: "It may need re-authorization: a token refresh began and its result was never stored. " +
    "The next refresh tries the stored refresh token once; if X refuses it, authorize the account again.",
  AUTH_STATE_REAUTH_REQUIRED: "It needs re-authorization: put new tokens in the account's environment, then reload the configuration (or restart). " +
    "Its jobs go dead with reason reauth meanwhile.",
  AUTH_STATE_UNKNOWN: "Its stored tokens could not be read: check the store and HERALD_TOKEN_KEY.",
};

export function renderAccounts(accounts) {
  replace("account-rows", accounts.length
    ? accounts.map((a) => h("tr", { "data-testid": "account-row", "data-id": a.name },
      h("th", { scope: "row" }, h("code", {}, a.name ?? "")),
      h("td", {}, a.auth ?? ""),
      h("td", {}, a.dryRun ? "dry run" : "publishing"),
      h("td", {}, h("span", { class: `auth-state auth-${authState(a.authState)}`, "data-testid": "auth-state" }, authState(a.authState))),
      h("td", {}, a.since ? time(a.since) : ""),
      h("td", { class: "error-cell" }, a.detail ?? "")))
    : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No accounts configured.")));

  const box = document.getElementById("account-warnings");
  const attention = accounts.filter((a) => a.authState && a.authState !== "AUTH_STATE_OK");
  if (!attention.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    h("h2", {}, attention.length === 1
      ? "An account may need re-authorization"
      : `${attention.length} accounts may need re-authorization`),
    h("ul", { "data-testid": "account-warning-list" }, attention.map((a) => h("li", { "data-id": a.name },
      h("code", {}, a.name ?? ""), ` — ${authState(a.authState)}`, a.since ? [" since ", time(a.since)] : null,
      a.detail ? `: ${a.detail.replace(/\.$/, "")}` : "", ". ", hints[a.authState] ?? ""))));
  box.hidden = false;
}
