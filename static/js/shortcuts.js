// The editor's keyboard shortcuts, listed once. timeline.js runs a key only through
// shortcutFor() below and the sheet (`?`, editor/partials/shortcut_sheet.html) and the
// buttons' tooltips are drawn from the same list, so what the sheet says is what the keys do.
// tests/unit/test_editor_shortcuts.py checks that every id here has a handler in timeline.js.

const MAC = /Mac|iPhone|iPad/.test(navigator.platform || "");
const MOD = MAC ? "⌘" : "Ctrl";

// `match(event, mod)`: mod is Ctrl or ⌘ held. Letter keys match either case, since Shift
// (or Caps Lock) changes event.key.
const letter = (ch) => (e) => e.key.toLowerCase() === ch;
const keyIs =
  (...keys) =>
  (e) =>
    keys.includes(e.key);
const plain = (test) => (e, mod) => !mod && test(e);
const modded = (test) => (e, mod) => mod && test(e);
const shifted = (on, test) => (e, mod) => !mod && e.shiftKey === on && test(e);

const SHORTCUTS = [
  // Playback
  { id: "play", group: "Playback", keys: ["Space"], label: "Play / pause", action: "play", match: plain(keyIs(" ", "Spacebar")) },
  { id: "shuttle-back", group: "Playback", keys: ["J"], label: "Play backwards, faster on repeat", action: "shuttle-back", match: plain(letter("j")) },
  { id: "stop", group: "Playback", keys: ["K"], label: "Stop", match: plain(letter("k")) },
  { id: "shuttle-fwd", group: "Playback", keys: ["L"], label: "Play forwards, faster on repeat", action: "shuttle-fwd", match: plain(letter("l")) },
  { id: "go-start", group: "Playback", keys: ["Home"], label: "Go to start", action: "go-start", match: plain(keyIs("Home")) },
  { id: "go-end", group: "Playback", keys: ["End"], label: "Go to end", action: "go-end", match: plain(keyIs("End")) },
  { id: "prev-edit", group: "Playback", keys: ["↑"], label: "Previous cut", match: plain(keyIs("ArrowUp")) },
  { id: "next-edit", group: "Playback", keys: ["↓"], label: "Next cut", match: plain(keyIs("ArrowDown")) },
  // Editing
  { id: "split", group: "Editing", keys: ["S"], label: "Split at playhead", action: "split", match: plain(letter("s")) },
  { id: "delete", group: "Editing", keys: ["Del"], label: "Delete", action: "delete", match: shifted(false, keyIs("Delete", "Backspace")) },
  { id: "ripple-delete", group: "Editing", keys: ["Shift", "Del"], label: "Ripple delete: close the gap", action: "ripple-delete", match: shifted(true, keyIs("Delete", "Backspace")) },
  { id: "nudge-left", group: "Editing", keys: ["←"], label: "Nudge the selection a frame left (none: the playhead)", match: shifted(false, keyIs("ArrowLeft")) },
  { id: "nudge-right", group: "Editing", keys: ["→"], label: "Nudge a frame right", match: shifted(false, keyIs("ArrowRight")) },
  { id: "nudge-left-10", group: "Editing", keys: ["Shift", "←"], label: "Nudge 10 frames left", match: shifted(true, keyIs("ArrowLeft")) },
  { id: "nudge-right-10", group: "Editing", keys: ["Shift", "→"], label: "Nudge 10 frames right", match: shifted(true, keyIs("ArrowRight")) },
  { id: "undo", group: "Editing", keys: [MOD, "Z"], label: "Undo", action: "undo", match: (e, mod) => mod && !e.shiftKey && letter("z")(e) },
  { id: "redo", group: "Editing", keys: [MOD, "Shift", "Z"], label: "Redo", action: "redo", match: (e, mod) => mod && ((e.shiftKey && letter("z")(e)) || letter("y")(e)) },
  { id: "copy", group: "Editing", keys: [MOD, "C"], label: "Copy", action: "copy", match: modded(letter("c")) },
  { id: "paste", group: "Editing", keys: [MOD, "V"], label: "Paste at playhead", action: "paste", match: modded(letter("v")) },
  // Selection
  { id: "select-all", group: "Selection", keys: [MOD, "A"], label: "Select every clip", match: modded(letter("a")) },
  { id: "select-focused", group: "Selection", keys: ["Enter"], label: "Select the focused clip (Shift: add to the selection)", match: (e, mod) => e.key === "Enter" && !!e.target.closest?.(".tl-clip") },
  { id: "deselect", group: "Selection", keys: ["Esc"], label: "Clear the selection; cancel a drag", match: plain(keyIs("Escape")) },
  // Generation slots: keys timeline-slots.js handles itself (`elsewhere`); listed here so the
  // sheet shows them, skipped by timeline.js's dispatch.
  { id: "generate-here", group: "Generate", keys: ["G"], label: "Generate a clip at the playhead", elsewhere: "timeline-slots.js", match: plain(letter("g")) },
  { id: "continue-shot", group: "Generate", keys: ["C"], label: "Continue the selected video clip", elsewhere: "timeline-slots.js", match: plain(letter("c")) },
  { id: "bridge-shots", group: "Generate", keys: ["B"], label: "Bridge the two selected clips with a transition", elsewhere: "timeline-slots.js", match: plain(letter("b")) },
  // View
  { id: "zoom-in", group: "View", keys: ["+"], label: "Zoom in", action: "zoom-in", match: plain(keyIs("+", "=")) },
  { id: "zoom-out", group: "View", keys: ["−"], label: "Zoom out", action: "zoom-out", match: plain(keyIs("-", "_")) },
  { id: "zoom-fit", group: "View", keys: ["\\"], label: "Fit the whole timeline", action: "zoom-fit", match: plain(keyIs("\\")) },
  { id: "shortcuts", group: "View", keys: ["?"], label: "Show these shortcuts", action: "shortcuts", match: plain(keyIs("?")) },
];

/** The shortcut a keydown asks for that timeline.js runs, or null. */
export function shortcutFor(event) {
  const mod = event.ctrlKey || event.metaKey;
  return SHORTCUTS.find((s) => !s.elsewhere && s.match(event, mod)) || null;
}

const keysText = (s) => s.keys.join("+");

/** Tooltips name their key ("Split at playhead (S)") and aria-keyshortcuts says it too;
 *  the templates carry the words only, so a key is written down in this file alone. */
export function decorateButtons(root) {
  if (!root) return;
  for (const s of SHORTCUTS) {
    if (!s.action) continue;
    for (const btn of root.querySelectorAll(`[data-action="${s.action}"]`)) {
      const words = btn.dataset.tip || btn.title || s.label;
      btn.dataset.tip = words;
      btn.title = `${words} (${keysText(s)})`;
      btn.setAttribute("aria-keyshortcuts", s.keys.map((k) => ({ Ctrl: "Control", "⌘": "Meta", Del: "Delete", Space: "Space" })[k] || k).join("+"));
    }
  }
}

// --- The sheet ------------------------------------------------------------------------------
const sheet = () => document.getElementById("shortcut-sheet");
let returnFocus = null;

function fill(dialog) {
  const body = dialog.querySelector("[data-shortcut-groups]");
  const groupTpl = dialog.querySelector("template[data-shortcut-group]");
  const rowTpl = dialog.querySelector("template[data-shortcut-row]");
  if (!body || !groupTpl || !rowTpl || body.dataset.filled) return;
  const groups = new Map();
  for (const s of SHORTCUTS) {
    if (!groups.has(s.group)) {
      const section = groupTpl.content.firstElementChild.cloneNode(true);
      section.querySelector("[data-group-name]").textContent = s.group;
      body.appendChild(section);
      groups.set(s.group, section.querySelector("[data-group-rows]"));
    }
    const row = rowTpl.content.firstElementChild.cloneNode(true);
    row.dataset.shortcut = s.id;
    const keys = row.querySelector("[data-keys]");
    for (const k of s.keys) {
      const kbd = document.createElement("kbd");
      kbd.textContent = k;
      keys.appendChild(kbd);
    }
    row.querySelector("[data-label]").textContent = s.label;
    groups.get(s.group).appendChild(row);
  }
  body.dataset.filled = "1";
}

export function openShortcuts() {
  const dialog = sheet();
  if (!dialog || dialog.open) return;
  fill(dialog);
  returnFocus = document.activeElement;
  dialog.showModal();
  dialog.querySelector("[data-action='dialog-close']")?.focus();
}

// Focus goes back where it was when the sheet closes (Escape, the close button).
document.addEventListener(
  "close",
  (event) => {
    if (event.target !== sheet()) return;
    const back = returnFocus;
    returnFocus = null;
    if (back?.isConnected && typeof back.focus === "function") back.focus();
  },
  true,
);

// Tab stays inside the sheet: a modal dialog makes the page inert, but Tab would still
// leave for the browser's own controls.
document.addEventListener("keydown", (event) => {
  const dialog = sheet();
  if (event.key !== "Tab" || !dialog?.open || !dialog.contains(event.target)) return;
  const focusable = [...dialog.querySelectorAll("button, [href], [tabindex]:not([tabindex='-1'])")].filter((el) => !el.disabled);
  if (!focusable.length) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
});
