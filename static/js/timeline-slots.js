// Generation slots on the timeline: "Generate here" (the ✦ Generate button, the G key at the
// playhead, or right-click on a video track), "Continue this shot" (right-click a video
// clip, or C on the selected one), "Bridge two shots" (right-click a video clip followed by
// another, or B with the two selected), the dialog that starts one, and each slot's buttons
// (cancel, retry, place, remove). The slots themselves are server-rendered
// (editor/partials/slot.html) and kept live by pushes; this module only sends requests. It
// uses timeline-core's edit path (same refusal toasts, same swap) and document-level
// listeners, so it never needs hooks in the other editor modules.
import { editorEl, edit, refetch, state, toast } from "./timeline-core.js";

const base = () => editorEl()?.dataset.baseUrl || null;

function csrf() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (_) {
    return "";
  }
}

// The track a "Generate" without a place goes to: the selected clip's video track, else the
// top video track.
function defaultTrack() {
  for (const id of state.selection) {
    const track = document.getElementById(`clip-${id}`)?.closest(".tl-track-video");
    if (track) return track.dataset.trackId;
  }
  return document.querySelector("#editor .tl-track-video")?.dataset.trackId || "";
}

function openDialog({ track, start }) {
  const url = base();
  if (!url) return;
  const query = new URLSearchParams({ track: track || "", start: (Math.max(0, start) || 0).toFixed(2) });
  showDialog(fetch(`${url}slots/form/?${query}`, { credentials: "same-origin", headers: { "HX-Request": "true" } }));
}

// Continue this shot: the server extracts the clip's last frame and answers the dialog
// prefilled for a slot right after the clip.
function openContinue(clipId) {
  const url = base();
  if (!url || !clipId) return;
  showDialog(
    fetch(`${url}slots/continue/`, {
      method: "POST",
      body: new URLSearchParams({ clip: clipId }),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
    }),
  );
}

// Bridge two shots: the server checks the pair, extracts both frames and answers the
// dialog with the first-and-last-frame models (or a sentence saying why not).
function openBridge(clipA, clipB) {
  const url = base();
  if (!url) return;
  showDialog(
    fetch(`${url}slots/bridge/`, {
      method: "POST",
      body: new URLSearchParams({ clip_a: clipA || "", clip_b: clipB || "" }),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
    }),
  );
}

// The clip that starts where this one ends on its lane (what Bridge pairs it with).
function nextClip(el) {
  const end = parseFloat(el.dataset.start) + parseFloat(el.dataset.out) - parseFloat(el.dataset.in);
  const lane = el.closest(".tl-lane");
  return [...(lane?.querySelectorAll(".tl-clip") || [])].find((c) => c !== el && Math.abs(parseFloat(c.dataset.start) - end) <= 0.05) || null;
}

async function showDialog(request) {
  let html;
  try {
    const res = await request;
    if (!res.ok) throw new Error(await res.text());
    html = await res.text();
  } catch (err) {
    toast(err?.message || "Could not open the generate dialog.");
    return;
  }
  document.getElementById("slot-dialog")?.remove();
  const tpl = document.createElement("template");
  tpl.innerHTML = html.trim();
  const dialog = tpl.content.querySelector("dialog");
  if (!dialog) return;
  document.body.appendChild(dialog);
  syncDurations(dialog);
  dialog.showModal();
  dialog.querySelector("textarea")?.focus();
}

// The length choices of `scope`'s [data-slot-duration] follow its [data-slot-model] (each
// model makes only some lengths), keeping the chosen length where the new model has it.
// Returns the model's selected option (null when the scope has no model or lengths); the
// storyboard's shot rows use it too.
export function syncLengths(scope) {
  const model = scope.querySelector("[data-slot-model]");
  const select = scope.querySelector("[data-slot-duration]");
  const option = model?.selectedOptions[0];
  if (!option || !select) return null;
  const lengths = (option.dataset.durations || "").split(",").filter(Boolean);
  const keep = select.value;
  select.replaceChildren(
    ...lengths.map((d) => {
      const o = document.createElement("option");
      o.value = d;
      o.textContent = `${d} s`;
      return o;
    }),
  );
  if (lengths.includes(keep)) select.value = keep;
  return option;
}

// The price basis shows what it costs before anything starts.
function syncDurations(dialog) {
  const option = syncLengths(dialog);
  if (!option) return;
  const price = dialog.querySelector("[data-slot-price]");
  if (price) price.textContent = option.dataset.price ? `Cost: ${option.dataset.price}` : "";
}

document.addEventListener("change", (event) => {
  if (event.target.matches?.("#slot-dialog [data-slot-model]")) syncDurations(event.target.closest("dialog"));
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest?.("[data-slot-form]");
  if (!form) return;
  event.preventDefault();
  const url = base();
  const error = form.querySelector("[data-slot-error]");
  const submit = form.querySelector("[type=submit]");
  if (!url) return;
  submit.disabled = true;
  try {
    const res = await fetch(`${url}slots/new/`, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
    });
    if (!res.ok) {
      // Shown in the dialog (a toast would sit under the modal): the service's sentence.
      if (error) error.textContent = res.status === 403 ? "Your session expired; reload the page." : await res.text();
      return;
    }
    form.closest("dialog")?.close();
    toast("Generating — the clip lands in its slot when it is done.", "success");
    await refetch();
  } catch (_) {
    if (error) error.textContent = "Could not reach the server; try again.";
  } finally {
    submit.disabled = false;
  }
});

// A slot is pushed on every progress step of its job. Replacing it whole would pull its
// buttons from under the pointer (a click between press and release is lost), so when the
// buttons are unchanged only the state is copied over and the element stays.
document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
  const target = event.detail?.target;
  if (!target?.classList?.contains("tl-slot")) return;
  const frag = event.detail.fragment;
  const incoming = frag?.querySelector?.(".tl-slot") || (frag?.classList?.contains("tl-slot") ? frag : frag?.firstElementChild);
  const actions = (el) => el?.querySelector(".tl-slot-actions")?.innerHTML.trim();
  if (!incoming || actions(incoming) !== actions(target)) return;
  for (const name of ["data-status", "style", "aria-label"]) {
    const value = incoming.getAttribute(name);
    if (value === null) target.removeAttribute(name);
    else target.setAttribute(name, value);
  }
  for (const part of [".tl-slot-title", ".tl-slot-state"]) {
    const from = incoming.querySelector(part);
    const to = target.querySelector(part);
    if (from && to && to.innerHTML !== from.innerHTML) to.innerHTML = from.innerHTML;
  }
  event.detail.shouldSwap = false;
});

// A press on a slot's button is not a scrub of the timeline (timeline-drag listens on
// document; this runs first, in the capture phase on window).
window.addEventListener(
  "pointerdown",
  (event) => {
    if (event.target.closest?.(".tl-slot-btn, .tl-slot-new")) event.stopPropagation();
  },
  true,
);

document.addEventListener("click", (event) => {
  if (event.target.closest?.("[data-slot-close]")) {
    event.target.closest("dialog")?.close();
    return;
  }
  if (event.target.closest?.("[data-slot-new]")) {
    openDialog({ track: defaultTrack(), start: state.playhead });
    return;
  }
  const btn = event.target.closest?.("[data-slot-action]");
  if (btn && !btn.disabled) {
    const slot = btn.closest(".tl-slot");
    if (slot) edit(`slots/${slot.dataset.slotId}/${btn.dataset.slotAction}/`, {});
    return;
  }
  const item = event.target.closest?.("[data-slot-menu-item]");
  closeMenu();
  if (item?.dataset.continue) openContinue(item.dataset.continue);
  else if (item?.dataset.bridge) openBridge(item.dataset.bridge, item.dataset.bridgeTo);
  else if (item) openDialog({ track: item.dataset.track, start: parseFloat(item.dataset.start) });
});

// --- Right-click on a video track: "Generate here" ----------------------------------------
let menu = null;

function closeMenu() {
  menu?.remove();
  menu = null;
}

function menuButton(label, track, start) {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.slotMenuItem = "";
  b.dataset.track = track;
  b.dataset.start = String(start);
  b.textContent = label;
  return b;
}

document.addEventListener("contextmenu", (event) => {
  const lane = event.target.closest?.("#editor .tl-track-video .tl-lane");
  if (!lane || event.target.closest(".tl-slot")) return;
  event.preventDefault();
  closeMenu();
  const track = lane.dataset.trackId;
  const clip = event.target.closest(".tl-clip");
  menu = document.createElement("div");
  menu.className = "tl-slot-menu";
  menu.setAttribute("role", "menu");
  if (clip) {
    if (clip.dataset.kind === "video") {
      const cont = menuButton("✦ Continue this shot (from its last frame)", track, 0);
      cont.dataset.continue = clip.dataset.clipId;
      menu.append(cont);
      const next = nextClip(clip);
      if (next?.dataset.kind === "video") {
        const bridge = menuButton("✦ Bridge to the next clip (a transition between them)", track, 0);
        bridge.dataset.bridge = clip.dataset.clipId;
        bridge.dataset.bridgeTo = next.dataset.clipId;
        menu.append(bridge);
      }
    }
    const end = parseFloat(clip.dataset.start) + parseFloat(clip.dataset.out) - parseFloat(clip.dataset.in);
    menu.append(menuButton(`✦ Generate after this clip (${end.toFixed(2)} s)`, track, end));
  } else {
    const at = (event.clientX - lane.getBoundingClientRect().left) / state.pps;
    menu.append(menuButton(`✦ Generate here (${Math.max(0, at).toFixed(2)} s)`, track, Math.max(0, at)));
  }
  menu.append(menuButton(`✦ Generate at the playhead (${state.playhead.toFixed(2)} s)`, track, state.playhead));
  menu.style.left = `${Math.min(event.clientX, window.innerWidth - 260)}px`;
  menu.style.top = `${Math.min(event.clientY, window.innerHeight - 90)}px`;
  document.body.appendChild(menu);
  menu.querySelector("button")?.focus();
});

// G: generate at the playhead. C: continue the selected video clip. B: bridge the two
// selected clips (or the selected one and the clip after it).
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeMenu();
  const key = event.key.toLowerCase();
  if (!["g", "c", "b"].includes(key) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (!editorEl() || document.querySelector("dialog[open]")) return;
  if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
  event.preventDefault();
  if (key === "g") {
    openDialog({ track: defaultTrack(), start: state.playhead });
    return;
  }
  if (key === "b") {
    const picked = [...state.selection].map((id) => document.getElementById(`clip-${id}`)).filter((el) => el?.dataset.trackKind === "video");
    if (picked.length === 1) picked.push(nextClip(picked[0]));
    if (picked.length === 2 && picked[1]) openBridge(picked[0].dataset.clipId, picked[1].dataset.clipId);
    else toast("Select two video clips that follow each other on a track to bridge them (B).");
    return;
  }
  const video = [...state.selection].map((id) => document.getElementById(`clip-${id}`)).find((el) => el?.dataset.kind === "video" && el.dataset.trackKind === "video");
  if (video) openContinue(video.dataset.clipId);
  else toast("Select a video clip to continue it (C).");
});
