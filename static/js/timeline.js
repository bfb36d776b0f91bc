// Editor entry point: toolbar buttons, keyboard, selection/clipboard, and keeping the view
// right after every swap. All listeners are delegated on document, so the panel and the
// timeline fragment can be replaced (by our fetches, live pushes or re-syncs) at any time.
import {
  allClips,
  applySelection,
  clipEl,
  docEl,
  edit,
  editorEl,
  formatTime,
  fps,
  on,
  select,
  state,
  timelineId,
  toast,
  withLinked,
} from "./timeline-core.js";
import { layout, setZoom, sliderToPps, updateToolbar, zoomFit } from "./timeline-view.js";
import { bindWheelZoom } from "./timeline-drag.js";
import { isPlaying, pause, refresh as refreshPreview, seek, shuttle, togglePlay } from "./preview.js";
import { decorateButtons, openShortcuts, shortcutFor } from "./shortcuts.js";
import "./timeline-inspector.js";

const ZOOM_STEP = 1.5;
const NUDGE_IDLE_MS = 350;

// --- Keeping the view in step with the DOM ----------------------------------------------------
let shownDoc = null;
let shownEditor = null;

function afterChange() {
  const editor = editorEl();
  const doc = docEl();
  if (!editor || !doc) return;
  if (editor !== shownEditor) {
    // A new panel (first load, another timeline opened): fit the zoom to the new edit.
    shownEditor = editor;
    decorateButtons(editor);
    if (state.zoomedFor !== timelineId()) {
      state.zoomedFor = timelineId();
      state.selection.clear();
      state.playhead = 0;
      requestAnimationFrame(() => {
        zoomFit();
        refreshPreview();
      });
    }
  }
  if (doc !== shownDoc) {
    shownDoc = doc;
    // Forget selected clips that no longer exist (deleted here or in another tab).
    for (const id of [...state.selection]) if (!clipEl(id)) state.selection.delete(id);
    applySelection();
    layout();
    refreshPreview();
  }
}

new MutationObserver(() => afterChange()).observe(document.body, { childList: true, subtree: true });
on("timeline-swapped", afterChange);
on("selection", updateToolbar);
window.addEventListener("resize", () => layout());
bindWheelZoom(setZoom);

// Live pushes: never replace a newer view with an older one, and never pull the clip out
// from under a drag (the drag's own request answers with the stored state anyway).
document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
  const target = event.detail?.target;
  if (!target?.classList?.contains("tl-doc")) return;
  const frag = event.detail.fragment;
  const incoming = frag?.querySelector?.(".tl-doc") || (frag?.classList?.contains("tl-doc") ? frag : frag?.firstElementChild);
  const rev = (el) => parseInt(el?.dataset?.revision || "0", 10);
  if (state.interacting) {
    state.pendingResync = true;
    event.detail.shouldSwap = false;
  } else if (incoming && rev(incoming) <= rev(target)) {
    event.detail.shouldSwap = false;
  }
});

// htmx requests from the editor (timeline list, export dialog) that are refused answer 4xx
// with one sentence: show it where the form asks (data-error-target) or as a toast.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  const elt = event.detail.requestConfig?.elt || event.target;
  if (!xhr || xhr.status < 400 || !elt?.closest?.("#editor, #editor-slot")) return;
  const message = xhr.status >= 500 ? "Something went wrong on the server; try again." : xhr.responseText || "That was refused.";
  const form = elt.closest("form");
  const errorTarget = form?.dataset.errorTarget ? document.querySelector(form.dataset.errorTarget) : null;
  if (errorTarget) errorTarget.textContent = message;
  else toast(message);
  event.detail.shouldSwap = false;
});

document.body.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt?.closest?.("form");
  if (!form || !event.detail.successful) return;
  if (form.dataset.closeDialog) {
    document.getElementById(form.dataset.closeDialog)?.close();
    const err = form.dataset.errorTarget && document.querySelector(form.dataset.errorTarget);
    if (err) err.textContent = "";
    toast("Export started — it keeps going if you close this tab.", "success");
  }
});

// --- Export cards ---------------------------------------------------------------------------
// Every export is pushed to every tab wrapped to insert itself at the top of #export-list
// (editor/partials/export_push.html): a tab that did not start it has no card to replace.
// Where the tab shows the card already (its own answer, an earlier push), the push replaces
// it in place instead. Pushes and answers can arrive out of order, so of two copies the one
// further along wins: a later stage, then a later start (a redelivered render starts again
// from 0 %), then more progress.
const EXPORT_STAGE = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };

function exportRank(card) {
  const bar = card.querySelector("[aria-valuenow]");
  return [
    EXPORT_STAGE[card.dataset.status] ?? 0,
    parseFloat(card.dataset.started || "0") || 0,
    parseFloat(bar?.getAttribute("aria-valuenow") || "0") || 0,
  ];
}

/** -1, 0 or 1 as card a is behind, level with or further along than card b. */
function compareExports(a, b) {
  const [ra, rb] = [exportRank(a), exportRank(b)];
  for (let i = 0; i < ra.length; i += 1) if (ra[i] !== rb[i]) return ra[i] < rb[i] ? -1 : 1;
  return 0;
}

document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
  const { target, fragment } = event.detail || {};
  if (target?.id !== "export-list" || !fragment) return;
  for (const card of [...fragment.querySelectorAll(".export-card")]) {
    const shown = document.getElementById(card.id);
    if (!shown) continue;
    if (compareExports(card, shown) >= 0) {
      shown.replaceWith(card);
      window.htmx?.process(card);
    } else {
      card.remove();
    }
  }
  if (!fragment.querySelector(".export-card")) event.detail.shouldSwap = false;
});

// The Export answer is inserted by hx-swap="afterbegin" and may land after the push did:
// keep the copy further along.
document.body.addEventListener("htmx:afterSettle", dedupeExports);
function dedupeExports() {
  const list = document.getElementById("export-list");
  if (!list) return;
  const kept = new Map();
  for (const card of [...list.querySelectorAll(".export-card")]) {
    const other = kept.get(card.id);
    if (!other) {
      kept.set(card.id, card);
    } else if (compareExports(card, other) > 0) {
      other.replaceWith(card);
      kept.set(card.id, card);
    } else {
      card.remove();
    }
  }
}

// --- Edits ------------------------------------------------------------------------------------
const selectedIds = () => [...state.selection].filter((id) => clipEl(id));

function requireSelection() {
  const ids = selectedIds();
  if (!ids.length) toast("Select a clip first (click it on the timeline).");
  return ids;
}

function splitAtPlayhead() {
  const t = state.playhead;
  const ids = selectedIds().filter((id) => {
    const el = clipEl(id);
    const s = parseFloat(el.dataset.start);
    const len = parseFloat(el.dataset.out) - parseFloat(el.dataset.in);
    return t > s && t < s + len;
  });
  return edit("clips/split/", { at: t.toFixed(3), clip_ids: ids.length ? ids : undefined });
}

function deleteSelected(ripple) {
  const ids = requireSelection();
  if (!ids.length) return;
  state.selection.clear();
  edit("clips/delete/", { clip_ids: ids, ripple: ripple ? "1" : undefined });
}

function copySelected() {
  const ids = requireSelection();
  if (!ids.length) return;
  state.clipboard = ids;
  updateToolbar();
  toast(`Copied ${withLinked(ids).size === ids.length ? ids.length : withLinked(ids).size} clip${ids.length > 1 ? "s" : ""}.`, "success");
}

function paste() {
  if (!state.clipboard.length) {
    toast("Nothing to paste: copy a clip first.");
    return;
  }
  edit("clips/paste/", { clip_ids: state.clipboard, at: state.playhead.toFixed(3) });
}

// Arrow nudges: move the look at once, store once the key is let go for a moment.
let nudge = { delta: 0, timer: 0, ids: [] };
function nudgeSelected(frames) {
  const ids = selectedIds();
  if (!ids.length) {
    seek(state.playhead + frames / fps());
    return;
  }
  const delta = frames / fps();
  const group = withLinked(ids);
  const earliest = Math.min(...[...group].map((id) => parseFloat(clipEl(id).dataset.start)));
  if (earliest + nudge.delta + delta < -1e-6) return;
  nudge.delta += delta;
  nudge.ids = ids;
  for (const id of group) {
    const el = clipEl(id);
    el.style.setProperty("--start", (parseFloat(el.dataset.start) + nudge.delta).toFixed(3));
  }
  clearTimeout(nudge.timer);
  state.interacting = true;
  nudge.timer = setTimeout(() => {
    const { delta: total, ids: moved } = nudge;
    nudge = { delta: 0, timer: 0, ids: [] };
    state.interacting = false;
    state.pendingResync = false;
    edit("clips/shift/", { clip_ids: moved, delta: total.toFixed(3) });
  }, NUDGE_IDLE_MS);
}

function jumpToEdit(direction) {
  const points = new Set([0]);
  for (const c of allClips()) {
    points.add(+c.start.toFixed(3));
    points.add(+c.end.toFixed(3));
  }
  const sorted = [...points].sort((a, b) => a - b);
  const t = state.playhead;
  const next = direction > 0 ? sorted.find((p) => p > t + 1e-3) : sorted.reverse().find((p) => p < t - 1e-3);
  if (next !== undefined) seek(next);
}

function openExport() {
  const dialog = document.getElementById("export-dialog");
  if (!dialog) return;
  if (isPlaying()) pause();
  dialog.showModal();
  dialog.querySelector("select, input")?.focus();
}

const actions = {
  undo: () => edit("undo/", {}),
  redo: () => edit("redo/", {}),
  split: splitAtPlayhead,
  delete: () => deleteSelected(false),
  "ripple-delete": () => deleteSelected(true),
  copy: copySelected,
  paste,
  snap: () => {
    state.snap = !state.snap;
    updateToolbar();
  },
  "zoom-in": () => setZoom(state.pps * ZOOM_STEP),
  "zoom-out": () => setZoom(state.pps / ZOOM_STEP),
  "zoom-fit": zoomFit,
  play: togglePlay,
  "shuttle-back": () => shuttle(-1),
  "shuttle-fwd": () => shuttle(1),
  "go-start": () => seek(0),
  "go-end": () => seek(Number.MAX_SAFE_INTEGER),
  "export-open": openExport,
  shortcuts: openShortcuts,
  "dialog-close": (btn) => btn.closest("dialog")?.close(),
  "rename-toggle": (btn) => {
    const row = document.getElementById(btn.dataset.target);
    if (!row) return;
    row.hidden = !row.hidden;
    if (!row.hidden) row.querySelector("input")?.select();
  },
  "track-delete": (btn) => {
    const track = btn.closest(".tl-track");
    if (track) edit(`tracks/${track.dataset.trackId}/delete/`, {});
  },
  "track-toggle": (btn) => {
    const track = btn.closest(".tl-track");
    if (!track) return;
    const on = btn.getAttribute("aria-pressed") !== "true";
    edit(`tracks/${track.dataset.trackId}/toggle/`, { field: btn.dataset.field, value: on ? "1" : "0" });
  },
};

document.addEventListener("click", (event) => {
  const btn = event.target.closest?.("[data-action]");
  if (!btn || !btn.closest("#editor") || btn.disabled) return;
  const action = actions[btn.dataset.action];
  if (!action) return;
  event.preventDefault();
  action(btn);
});

document.addEventListener("input", (event) => {
  if (event.target.matches?.("[data-zoom]")) setZoom(sliderToPps(parseFloat(event.target.value)));
});

// Closing the picker when clicking elsewhere, like a menu.
document.addEventListener("click", (event) => {
  const picker = document.getElementById("timeline-picker");
  if (picker?.open && !picker.contains(event.target)) picker.open = false;
});

// --- Media cards: "Add to timeline" ----------------------------------------------------------
// The card menu's action (media_library/partials/card.html) for screens where a card cannot
// be dragged onto the timeline: a phone shows one panel at a time. The server puts the clip
// after the last one of V1 (A1 for sound) of the timeline open in the editor; the toast says
// where, since on a phone the timeline is on another tab.
document.addEventListener("click", (event) => {
  const btn = event.target.closest?.("[data-add-to-timeline]");
  if (!btn) return;
  event.preventDefault();
  const card = btn.closest("[data-media-id]");
  if (!card) return;
  if (!editorEl()) {
    toast("The timeline is still loading; try again in a moment.");
    return;
  }
  edit("clips/append/", { media_id: card.dataset.mediaId }, {
    onOk: (res) => {
      const start = parseFloat(res.headers.get("X-Clip-Start") || "");
      const where = Number.isFinite(start) ? ` at ${formatTime(start)}` : "";
      toast(`Added to the timeline${where}`, "success");
    },
  });
});

// --- Keyboard ---------------------------------------------------------------------------------
function typing(target) {
  return !!target.closest?.("input, textarea, select, [contenteditable=''], [contenteditable=true], dialog[open]");
}

// Which key does what is listed once, in shortcuts.js (the `?` sheet shows that list); this
// maps each shortcut to its work. A handler answering false leaves the key to the browser.
const keyActions = {
  undo: () => edit("undo/", {}),
  redo: () => edit("redo/", {}),
  copy: copySelected,
  paste,
  "select-all": () => select(allClips().map((c) => c.id)),
  play: (event) => {
    // Space on a focused button presses it; it must not also toggle playback.
    if (event.target.closest?.("button, a, summary")) return false;
    togglePlay();
  },
  "shuttle-back": () => shuttle(-1),
  stop: () => shuttle(0),
  "shuttle-fwd": () => shuttle(1),
  split: splitAtPlayhead,
  delete: () => deleteSelected(false),
  "ripple-delete": () => deleteSelected(true),
  "nudge-left": () => nudgeSelected(-1),
  "nudge-right": () => nudgeSelected(1),
  "nudge-left-10": () => nudgeSelected(-10),
  "nudge-right-10": () => nudgeSelected(10),
  "prev-edit": () => jumpToEdit(-1),
  "next-edit": () => jumpToEdit(1),
  "go-start": () => seek(0),
  "go-end": () => seek(Number.MAX_SAFE_INTEGER),
  "zoom-in": () => setZoom(state.pps * ZOOM_STEP),
  "zoom-out": () => setZoom(state.pps / ZOOM_STEP),
  "zoom-fit": zoomFit,
  "select-focused": (event) => {
    const clip = event.target.closest(".tl-clip");
    select([clip.dataset.clipId], { toggle: event.shiftKey || event.ctrlKey || event.metaKey });
  },
  deselect: () => select([]),
  shortcuts: openShortcuts,
};

document.addEventListener("keydown", (event) => {
  if (!editorEl() || typing(event.target) || event.altKey) return;
  if (document.querySelector("dialog[open]")) return;
  const shortcut = shortcutFor(event);
  const run = shortcut && keyActions[shortcut.id];
  if (!run) return;
  if (run(event) !== false) event.preventDefault();
});

afterChange();
