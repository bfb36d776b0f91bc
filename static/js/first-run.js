// First-run checklist (templates/onboarding/partials/first_run.html): the server decides
// which steps are done, from the user's own jobs, clips and exports. This script only
// re-fetches the fragment when something may have done a step: a live push (a job card,
// a media card, a timeline, an export: every change reaches this tab over the socket, also
// one made in another tab or through the API), an edit request of this tab, or a re-sync.
// It does nothing once the checklist is complete or dismissed (the slot is then empty).

const slot = () => document.getElementById("first-run-slot");
const pending = () => {
  const list = document.getElementById("first-run");
  return Boolean(list) && list.dataset.complete !== "true";
};

// Job progress pushes can come several times a second: at most one request in flight, and
// at most one more queued behind it, spaced by MIN_GAP_MS.
const MIN_GAP_MS = 800;
let inFlight = false;
let again = false;
let lastAt = 0;

function refresh() {
  const target = slot();
  if (!target || !pending() || !window.htmx) return;
  if (inFlight) {
    again = true;
    return;
  }
  const wait = Math.max(0, lastAt + MIN_GAP_MS - Date.now());
  inFlight = true;
  setTimeout(() => {
    lastAt = Date.now();
    window.htmx
      .ajax("GET", target.dataset.url, { target: "#first-run-slot", swap: "innerHTML" })
      .catch(() => {})
      .finally(() => {
        inFlight = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }, wait);
}

// Folding: a per-browser view preference (not progress), so localStorage; applied again to
// every fresh copy of the fragment.
const FOLD_KEY = "cutroom.firstRun.folded";
const folded = () => {
  try {
    return localStorage.getItem(FOLD_KEY) === "1";
  } catch {
    return false;
  }
};

function applyFold() {
  const list = document.getElementById("first-run");
  const toggle = list?.querySelector("[data-first-run-toggle]");
  if (!toggle) return;
  const fold = folded();
  list.dataset.folded = String(fold);
  toggle.setAttribute("aria-expanded", String(!fold));
  toggle.setAttribute("aria-label", fold ? "Show the steps" : "Hide the steps");
}

document.addEventListener("click", (event) => {
  if (!event.target.closest?.("[data-first-run-toggle]")) return;
  try {
    localStorage.setItem(FOLD_KEY, folded() ? "0" : "1");
  } catch {
    /* private mode: the fold lasts until the next refresh */
  }
  applyFold();
});

document.body.addEventListener("htmx:afterSettle", (event) => {
  if (event.target?.id === "first-run-slot") applyFold();
});

document.body.addEventListener("htmx:wsAfterMessage", refresh);
document.body.addEventListener("live:resync", refresh);
// This tab's own writes (a clip dropped, an export started): their pushes follow too, but
// a refused push (a dropped socket) must not leave the step unticked.
document.body.addEventListener("htmx:afterRequest", (event) => {
  const verb = String(event.detail?.requestConfig?.verb || "").toLowerCase();
  if (verb && verb !== "get" && event.detail?.successful) refresh();
});
