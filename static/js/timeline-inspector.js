// The inspector: the fades (and, on an audio track, the volume) of the one selected clip.
// The fields show the stored values, read from the selected clip's data attributes after
// every swap (our edits, undo, another tab's push); a change is one edit (POST clips/prop/)
// whose refusal is shown under the fields while the stored timeline comes back. Arrow keys
// nudge a field by its step (Shift: the big step); a burst of nudges is stored as one edit
// once the key is let go for a moment, like the clip nudges of timeline.js.
import { clipEl, edit, on, state } from "./timeline-core.js";

const NUDGE_IDLE_MS = 350;
const FIELDS = ["fade_in", "fade_out", "volume"];

const root = () => document.querySelector("#editor [data-inspector]");
let pending = { field: null, timer: 0 };

/** The clip the inspector edits: exactly one selected clip that is still shown. */
function selectedClip() {
  const ids = [...state.selection].filter((id) => clipEl(id));
  return ids.length === 1 ? clipEl(ids[0]) : null;
}

function storedValue(el, field) {
  const d = el.dataset;
  if (field === "volume") return String(Math.round(parseFloat(d.volume || "1") * 100));
  const seconds = parseFloat(field === "fade_in" ? d.fadeIn : d.fadeOut) || 0;
  return String(+seconds.toFixed(3));
}

function render() {
  const box = root();
  if (!box) return;
  const form = box.querySelector("[data-insp-form]");
  const empty = box.querySelector("[data-insp-empty]");
  const el = selectedClip();
  const many = [...state.selection].filter((id) => clipEl(id)).length > 1;
  form.hidden = !el;
  empty.hidden = !!el;
  empty.textContent = many ? "Select one clip to set its fades and volume." : "Select a clip to set its fades and volume.";
  if (!el) {
    box.dataset.clipId = "";
    return;
  }
  const audio = el.dataset.trackKind === "audio";
  if (box.dataset.clipId !== el.dataset.clipId) box.querySelector("[data-insp-error]").textContent = "";
  box.dataset.clipId = el.dataset.clipId;
  const title = el.querySelector(".tl-clip-title")?.textContent.trim() || "Clip";
  box.querySelector("[data-insp-title]").textContent = `${title} · ${audio ? "sound" : "picture"}`;
  box.querySelector('[data-insp-label="fade_in"]').textContent = audio ? "Fade in" : "Fade from black";
  box.querySelector('[data-insp-label="fade_out"]').textContent = audio ? "Fade out" : "Fade to black";
  box.querySelector("[data-insp-audio]").hidden = !audio;
  const locked = !!el.closest(".tl-track")?.dataset.locked;
  for (const field of FIELDS) {
    const input = box.querySelector(`[data-insp-field="${field}"]`);
    input.disabled = locked;
    // A field the user is typing into keeps their text until they commit it.
    if (input.dataset.dirty && document.activeElement === input) continue;
    delete input.dataset.dirty;
    input.value = storedValue(el, field);
  }
}

/** The server's value for a field: seconds as typed, volume from % to a gain (text the
 *  browser cannot read as a number goes as it is, so the server's sentence names it). */
function wireValue(field, text) {
  const raw = text.trim();
  if (field !== "volume") return raw;
  const percent = Number(raw);
  return raw !== "" && Number.isFinite(percent) ? String(+(percent / 100).toFixed(4)) : raw;
}

function commit(input) {
  const box = root();
  const el = selectedClip();
  if (!box || !el || input.disabled) return;
  clearTimeout(pending.timer);
  pending = { field: null, timer: 0 };
  const field = input.dataset.inspField;
  if (input.value.trim() === storedValue(el, field)) {
    delete input.dataset.dirty;
    return; // nothing changed: no edit, no history step
  }
  const error = box.querySelector("[data-insp-error]");
  edit(
    "clips/prop/",
    { clip_id: el.dataset.clipId, field, value: wireValue(field, input.value) },
    {
      onOk: () => {
        error.textContent = "";
      },
      onRefused: (sentence) => {
        error.textContent = sentence;
      },
    },
  ).then(() => {
    delete input.dataset.dirty;
    render();
  });
}

function nudge(input, direction, big) {
  const step = parseFloat(big ? input.dataset.bigStep : input.dataset.step) || 1;
  const current = Number(input.value.trim());
  const base = Number.isFinite(current) ? current : 0;
  let next = Math.max(0, base + direction * step);
  if (input.dataset.max) next = Math.min(parseFloat(input.dataset.max), next);
  input.value = String(+next.toFixed(3));
  input.dataset.dirty = "1";
  clearTimeout(pending.timer);
  pending = { field: input.dataset.inspField, timer: setTimeout(() => commit(input), NUDGE_IDLE_MS) };
}

document.addEventListener("keydown", (event) => {
  const input = event.target.closest?.("[data-inspector] [data-insp-field]");
  if (!input) return;
  if (event.key === "ArrowUp" || event.key === "ArrowDown") {
    event.preventDefault();
    nudge(input, event.key === "ArrowUp" ? 1 : -1, event.shiftKey);
  } else if (event.key === "Enter") {
    event.preventDefault();
    commit(input);
  } else if (event.key === "Escape") {
    delete input.dataset.dirty;
    clearTimeout(pending.timer);
    input.blur();
    render();
  }
});

document.addEventListener("input", (event) => {
  const input = event.target.closest?.("[data-inspector] [data-insp-field]");
  if (input) input.dataset.dirty = "1";
});

// Leaving a field stores what it says (the Enter key does the same).
document.addEventListener("change", (event) => {
  const input = event.target.closest?.("[data-inspector] [data-insp-field]");
  if (input) commit(input);
});

document.addEventListener("submit", (event) => {
  if (event.target.closest?.("[data-inspector]")) event.preventDefault();
});

on("selection", render);
on("timeline-swapped", render);
// The panel itself may be swapped (another timeline opened): render into the new one.
new MutationObserver(() => {
  const box = root();
  if (box && !box.dataset.bound) {
    box.dataset.bound = "1";
    render();
  }
}).observe(document.body, { childList: true, subtree: true });
