// Workspace tabs below 1440 px (css/layout.css): a rail switching Media / Generate beside the
// editor, and on phones a bottom bar switching Media / Generate / Edit. The choice is kept in
// localStorage, so a reload (or the next visit) opens the same panel.
//
// State: `tab` is what a phone shows (media | generate | edit); `side` is what the side column
// shows beside the editor (media | generate), the last of those two picked in either layout.
// CSS reads both from data-tab / data-side on .app; this script only keeps them and the ARIA.

const STORAGE_KEY = "cutroom.workspace.tabs";
const TABS = ["media", "generate", "edit"];
const SIDES = ["media", "generate"];
// Keep in step with the breakpoints in css/layout.css.
const phoneQuery = window.matchMedia("(max-width: 860px)");
const tabbedQuery = window.matchMedia("(max-width: 1439.98px)");

const app = document.getElementById("live-root");
const tablist = document.getElementById("workspace-tabs");
const tabs = tablist ? [...tablist.querySelectorAll('[role="tab"]')] : [];

function load() {
  const state = { tab: "edit", side: "media" };
  try {
    const saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "{}");
    if (TABS.includes(saved.tab)) state.tab = saved.tab;
    if (SIDES.includes(saved.side)) state.side = saved.side;
  } catch (_) {
    /* storage blocked or garbled: start from the defaults */
  }
  return state;
}

const state = load();

function save() {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
  } catch (_) {
    /* private mode with storage off: the choice lasts until the reload */
  }
}

function mode() {
  if (phoneQuery.matches) return "phone";
  return tabbedQuery.matches ? "side" : "wide";
}

const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));

function apply() {
  if (!app || !tablist) return;
  const current = mode();
  app.dataset.tab = state.tab;
  app.dataset.side = state.side;
  app.dataset.layout = current;
  const shown = current === "phone" ? state.tab : state.side;
  tablist.setAttribute("aria-orientation", current === "side" ? "vertical" : "horizontal");
  for (const tab of tabs) {
    const selected = tab.dataset.tab === shown;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    // Panels are tab panels only while tabs switch them; side by side they are plain regions.
    // The editor is not switched beside the side column, so it is no tab panel there.
    const panel = panelOf(tab);
    if (!panel) continue;
    const switched = current === "phone" || (current === "side" && tab.dataset.tab !== "edit");
    if (switched) {
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
    } else {
      panel.removeAttribute("role");
      panel.removeAttribute("aria-labelledby");
    }
  }
  // A panel coming back from display:none measures itself again (the timeline lays out on
  // resize).
  window.dispatchEvent(new Event("resize"));
  refitIfNeeded();
}

// The editor fits its zoom to the timeline when a timeline is loaded; loaded while hidden (a
// phone on the Media tab), it measured a width of 0 and fitted nothing. Fit again, with the
// editor's own Fit button, the first time it is on screen.
let editorNeedsFit = false;
const editorSlot = document.getElementById("editor-slot");
const onScreen = (el) => Boolean(el && el.getClientRects().length > 0);

function refitIfNeeded() {
  if (!editorNeedsFit || !onScreen(editorSlot)) return;
  editorNeedsFit = false;
  requestAnimationFrame(() => editorSlot.querySelector('[data-action="zoom-fit"]')?.click());
}

document.body.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail?.target !== editorSlot) return;
  editorNeedsFit = !onScreen(editorSlot);
});

/** Show the panel for `name` (media | generate | edit) and remember it. */
export function selectTab(name) {
  if (!TABS.includes(name)) return;
  state.tab = name;
  if (SIDES.includes(name)) state.side = name;
  save();
  apply();
}

const visibleTabs = () => tabs.filter((tab) => tab.getClientRects().length > 0);

if (tablist) {
  tablist.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) selectTab(tab.dataset.tab);
  });

  // Arrow keys move between tabs and show the panel at once (the panels are already loaded);
  // Home / End jump to the first / last.
  tablist.addEventListener("keydown", (event) => {
    const list = visibleTabs();
    const at = list.indexOf(event.target.closest('[role="tab"]'));
    if (at < 0) return;
    let next = null;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") next = list[(at + 1) % list.length];
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = list[(at - 1 + list.length) % list.length];
    else if (event.key === "Home") next = list[0];
    else if (event.key === "End") next = list[list.length - 1];
    if (!next) return;
    event.preventDefault();
    selectTab(next.dataset.tab);
    next.focus();
  });
}

// "Show in media" on a finished job: open the Media panel first, so the card it scrolls to is
// on screen. Capture phase: this runs before generate.js scrolls.
document.addEventListener(
  "click",
  (event) => {
    if (event.target.closest?.("[data-reveal-media]") && mode() !== "wide") selectTab("media");
  },
  true,
);

phoneQuery.addEventListener("change", apply);
tabbedQuery.addEventListener("change", apply);
apply();
