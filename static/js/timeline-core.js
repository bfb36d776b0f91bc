// Shared editor state and the one path every edit takes: POST to a small endpoint, swap in
// the stored timeline it answers with, or show the refusal and re-fetch the stored state.
// The DOM is swapped by three paths (our fetches, htmx live pushes, htmx re-sync), so
// nothing here keeps references to timeline elements: everything is looked up by id.

export const state = {
  pps: 40, // zoom: pixels per second
  playhead: 0, // seconds
  selection: new Set(), // clip ids (strings)
  snap: true,
  clipboard: [], // clip ids
  interacting: false, // a pointer drag is in progress: hold back live swaps
  pendingResync: false,
  zoomedFor: null, // timeline id the zoom was fitted for
};

export const MIN_PPS = 1;
export const MAX_PPS = 600;
const SNAP_PX = 8;

export const editorEl = () => document.getElementById("editor");
export const regionEl = () => document.getElementById("timeline-region");
export const timelineId = () => editorEl()?.dataset.timelineId || null;
export const docEl = () => {
  const id = timelineId();
  return id ? document.getElementById(`timeline-${id}`) : null;
};
export const fps = () => parseFloat(docEl()?.dataset.fps || editorEl()?.dataset.fps || "30") || 30;
export const duration = () => parseFloat(docEl()?.dataset.duration || "0") || 0;
export const headWidth = () => {
  const head = regionEl()?.querySelector(".tl-track-head");
  return head ? head.getBoundingClientRect().width : 112;
};

export function emit(name, detail = {}) {
  document.dispatchEvent(new CustomEvent(`cutroom:${name}`, { detail }));
}

export function on(name, handler) {
  document.addEventListener(`cutroom:${name}`, (event) => handler(event.detail || {}));
}

// --- Clips --------------------------------------------------------------------------------
export function clipInfo(el) {
  const d = el.dataset;
  const start = parseFloat(d.start);
  const inPt = parseFloat(d.in);
  const outPt = parseFloat(d.out);
  const srcDur = d.srcDuration ? parseFloat(d.srcDuration) : Infinity;
  return {
    el,
    id: d.clipId,
    trackId: d.trackId,
    trackKind: d.trackKind,
    kind: d.kind,
    link: d.link || null,
    start,
    in: inPt,
    out: outPt,
    len: outPt - inPt,
    end: start + (outPt - inPt),
    srcDur,
    src: d.src,
    volume: parseFloat(d.volume || "1"),
    fadeIn: parseFloat(d.fadeIn || "0") || 0,
    fadeOut: parseFloat(d.fadeOut || "0") || 0,
    locked: !!el.closest(".tl-track")?.dataset.locked,
  };
}

export function allClips() {
  const doc = docEl();
  return doc ? [...doc.querySelectorAll(".tl-clip")].map(clipInfo) : [];
}

export const clipEl = (id) => document.getElementById(`clip-${id}`);

/** The selection plus linked partners (a video and its audio edit together). */
export function withLinked(ids) {
  const set = new Set(ids);
  const links = new Set();
  for (const id of ids) {
    const el = clipEl(id);
    if (el?.dataset.link) links.add(el.dataset.link);
  }
  if (links.size) {
    for (const c of allClips()) if (c.link && links.has(c.link)) set.add(c.id);
  }
  return set;
}

export function applySelection() {
  const doc = docEl();
  if (!doc) return;
  const shown = withLinked([...state.selection]);
  for (const el of doc.querySelectorAll(".tl-clip")) {
    const on = shown.has(el.dataset.clipId);
    el.classList.toggle("is-selected", on);
    el.setAttribute("aria-pressed", on ? "true" : "false");
  }
  emit("selection");
}

export function select(ids, { add = false, toggle = false } = {}) {
  if (!add && !toggle) state.selection.clear();
  for (const id of ids) {
    if (toggle && state.selection.has(id)) state.selection.delete(id);
    else state.selection.add(id);
  }
  applySelection();
}

// --- Time helpers -------------------------------------------------------------------------
export function snapToFrame(t) {
  const f = fps();
  return Math.round(t * f) / f;
}

/** Edges a dragged edge may snap to: clip edges (except `exclude`), the playhead and 0. */
export function snapTargets(exclude = new Set()) {
  const targets = [0, state.playhead];
  for (const c of allClips()) {
    if (exclude.has(c.id)) continue;
    targets.push(c.start, c.end);
  }
  return targets;
}

/** The timeline start as a snap target of a clip's (or a group's) first start, or null.
 *  It wins over a closer target of another edge: the closest-edge rule alone let a clip
 *  dropped a few pixels after 0 snap its end to the playhead or another clip instead,
 *  leaving black frames before it. */
export function snapToStart(start) {
  if (!state.snap || Math.abs(start) > SNAP_PX / state.pps) return null;
  return { delta: -start, at: 0 };
}

/** Where a span [start, end] snaps: its start to 0 first, else its closest edge. */
export function snapSpan(start, end, targets) {
  return snapToStart(start) || findSnap([start, end], targets);
}

/** Closest target within SNAP_PX of any of `edges`; returns {delta, at} or null. */
export function findSnap(edges, targets) {
  if (!state.snap) return null;
  const limit = SNAP_PX / state.pps;
  let best = null;
  for (const edge of edges) {
    for (const target of targets) {
      const delta = target - edge;
      if (Math.abs(delta) <= limit && (!best || Math.abs(delta) < Math.abs(best.delta))) {
        best = { delta, at: target };
      }
    }
  }
  return best;
}

/** The one time format of the editor (the transport, the ruler, the clip labels, toasts):
 *  m:ss.t, h:mm:ss.t from an hour. Tenths are cut, never rounded up, so a playhead at
 *  12.96 s does not claim 0:13.0 yet. The server's `timecode` filter
 *  (editor/templatetags/editor_tags.py) is the same function. */
export function formatTime(t) {
  const tenths = Math.floor(Math.max(0, t) * 10 + 1e-6);
  const whole = Math.floor(tenths / 10);
  const pad = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor(whole / 60) % 60;
  const rest = `${pad(whole % 60)}.${tenths % 10}`;
  return hours ? `${hours}:${pad(minutes)}:${rest}` : `${minutes}:${rest}`;
}

// --- Server ------------------------------------------------------------------------------
function csrfToken() {
  try {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
  } catch (_) {
    /* fall through to the cookie */
  }
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function toast(message, kind = "error") {
  let box = document.getElementById("toasts");
  if (!box) {
    box = document.createElement("div");
    box.id = "toasts";
    box.className = "toasts";
    document.body.appendChild(box);
  }
  const el = document.createElement("div");
  el.className = `toast toast-${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.textContent = message;
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === "error" ? 7000 : 3500);
}

let queue = Promise.resolve();

/** POST an edit; edits run one after another so the server sees them in order.
 *  `onOk(response)` runs after a stored edit's answer is shown (to read its headers);
 *  `onRefused(sentence)` after a refusal, for a form that shows it by its field. */
export function edit(path, fields, { onOk = null, onRefused = null } = {}) {
  const id = timelineId();
  const base = editorEl()?.dataset.baseUrl;
  if (!id || !base) return Promise.resolve(false);
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields || {})) {
    if (value === undefined || value === null) continue;
    body.append(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const run = async () => {
    regionEl()?.classList.add("tl-busy");
    try {
      const res = await fetch(base + path, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      });
      const text = await res.text();
      if (res.ok) {
        swapTimeline(text, { force: true });
        onOk?.(res);
        return true;
      }
      const sentence = res.status === 403 ? "Your session expired; reload the page." : text || "That edit was refused.";
      // A form showing the sentence by its field does not need the toast as well.
      if (onRefused) onRefused(sentence);
      else toast(sentence);
      await refetch();
      return false;
    } catch (_) {
      toast("Could not reach the server; the timeline shows what is stored.");
      await refetch();
      return false;
    } finally {
      regionEl()?.classList.remove("tl-busy");
    }
  };
  queue = queue.then(run, run);
  return queue;
}

/** Re-read the stored timeline (after a refusal, a missed push, or a deferred swap). */
export async function refetch() {
  const base = editorEl()?.dataset.baseUrl;
  if (!base) return;
  try {
    const res = await fetch(base, { credentials: "same-origin", headers: { "HX-Request": "true" } });
    if (res.ok) swapTimeline(await res.text(), { force: true });
  } catch (_) {
    /* offline: the live re-sync will repair it */
  }
}

function parseDoc(html) {
  const tpl = document.createElement("template");
  tpl.innerHTML = html.trim();
  return tpl.content.querySelector(".tl-doc");
}

/** Replace the shown timeline with a fragment unless it is older than what is shown. */
function swapTimeline(html, { force = false } = {}) {
  const incoming = parseDoc(html);
  const current = docEl();
  if (!incoming || !current || incoming.id !== current.id) return false;
  const rev = (el) => parseInt(el.dataset.revision || "0", 10);
  if (rev(incoming) < rev(current) || (!force && rev(incoming) === rev(current))) return false;
  if (state.interacting) {
    state.pendingResync = true;
    return false;
  }
  incoming.removeAttribute("hx-swap-oob");
  current.replaceWith(incoming);
  if (window.htmx) window.htmx.process(incoming);
  emit("timeline-swapped");
  return true;
}
