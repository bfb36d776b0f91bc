// Pointer work on the timeline: dropping media cards, moving and trimming clips, scrubbing.
// Every gesture changes only the look of the dragged elements until the pointer is released;
// then one request stores it and the answer (the stored timeline) replaces the look.
import {
  clipEl,
  clipInfo,
  docEl,
  edit,
  findSnap,
  refetch,
  regionEl,
  select,
  snapSpan,
  snapTargets,
  snapToStart,
  snapToFrame,
  state,
  toast,
  withLinked,
} from "./timeline-core.js";
import { scroller } from "./timeline-view.js";
import { seek } from "./preview.js";

const MEDIA_TYPE = "application/x-cutroom-media";
const DRAG_THRESHOLD_PX = 4;

/** Timeline seconds under a viewport x (lanes all start at the same x). */
function timeAt(clientX) {
  const lane = docEl()?.querySelector(".tl-lane") || regionEl()?.querySelector("[data-ruler]");
  if (!lane) return 0;
  return Math.max(0, (clientX - lane.getBoundingClientRect().left) / state.pps);
}

function showSnapLine(at) {
  const line = regionEl()?.querySelector(".tl-snapline");
  if (!line) return;
  if (at === null || at === undefined) {
    line.hidden = true;
    return;
  }
  line.hidden = false;
  line.style.setProperty("--t", at.toFixed(4));
}

// --- Media cards dragged from the media panel ------------------------------------------------
let dragged = null; // {id, kind, duration, title}

document.addEventListener("dragstart", (event) => {
  const card = event.target.closest?.("[data-media-id]");
  if (!card || card.classList.contains("tl-clip")) return;
  dragged = {
    id: card.dataset.mediaId,
    kind: card.dataset.kind || "video",
    duration: parseFloat(card.dataset.duration || "") || (card.dataset.kind === "image" ? 5 : 3),
    title: card.dataset.title || card.getAttribute("aria-label") || "Clip",
  };
  // Cards that do not set the data themselves still work.
  if (event.dataTransfer && !event.dataTransfer.types.includes(MEDIA_TYPE)) {
    event.dataTransfer.setData(MEDIA_TYPE, dragged.id);
    event.dataTransfer.setData("text/plain", `media:${dragged.id}`);
    event.dataTransfer.effectAllowed = "copy";
  }
});
document.addEventListener("dragend", () => {
  dragged = null;
  clearDropLook();
});

function isMediaDrag(event) {
  const types = event.dataTransfer ? [...event.dataTransfer.types] : [];
  return types.includes(MEDIA_TYPE) || (dragged && types.includes("text/plain"));
}

const trackKindFor = (mediaKind) => (mediaKind === "audio" ? "audio" : "video");

/** Where a drop at this point would land: a lane of the right kind, else a new track. */
function dropTarget(event) {
  const doc = docEl();
  if (!doc || !regionEl()?.contains(event.target)) return null;
  const kind = trackKindFor(dragged?.kind);
  const lane = event.target.closest?.(".tl-lane");
  if (lane && lane.closest(".tl-doc") === doc) {
    if (lane.dataset.kind !== kind) return { refused: `Put ${dragged?.kind === "audio" ? "audio on an audio" : "video and images on a video"} track.` };
    if (lane.closest(".tl-track")?.dataset.locked) return { refused: "That track is locked." };
    return { lane, trackId: lane.dataset.trackId };
  }
  // Anywhere else in the region (below the last track, the empty area): a new track.
  return { lane: null, trackId: null, newTrack: true };
}

function clearDropLook() {
  for (const el of document.querySelectorAll(".is-drop")) el.classList.remove("is-drop");
  const ghost = regionEl()?.querySelector(".tl-ghost");
  if (ghost) ghost.hidden = true;
  showSnapLine(null);
}

function dropStart(event) {
  // Snaps are looked for from where the pointer really is, and only a drop that snaps to
  // nothing is rounded to a frame (rounding first could carry an edge out of snap reach).
  const raw = timeAt(event.clientX);
  const len = dragged?.duration || 3;
  const snap = snapSpan(raw, raw + len, snapTargets());
  const start = snap ? raw + snap.delta : snapToFrame(raw);
  return { start: Math.max(0, start), snapAt: snap ? snap.at : null, len };
}

function showGhost(target, event) {
  clearDropLook();
  const region = regionEl();
  const ghost = region?.querySelector(".tl-ghost");
  if (!ghost || !target) return;
  const { start, snapAt, len } = dropStart(event);
  const canvas = region.querySelector(".tl-canvas");
  const canvasRect = canvas.getBoundingClientRect();
  let rowRect;
  ghost.classList.toggle("is-refused", !!target.refused);
  if (target.refused) {
    rowRect = event.target.closest(".tl-lane").getBoundingClientRect();
  } else if (target.lane) {
    target.lane.classList.add("is-drop");
    rowRect = target.lane.getBoundingClientRect();
  } else {
    const zone = docEl()?.querySelector("[data-new-track]");
    zone?.classList.add("is-drop");
    rowRect = zone ? zone.getBoundingClientRect() : canvasRect;
  }
  const laneLeft = (docEl()?.querySelector(".tl-lane") || region.querySelector("[data-ruler]")).getBoundingClientRect().left;
  ghost.hidden = false;
  ghost.style.left = `${laneLeft - canvasRect.left + start * state.pps}px`;
  ghost.style.top = `${rowRect.top - canvasRect.top + 3}px`;
  ghost.style.height = `${Math.max(20, Math.min(rowRect.height, 60) - 6)}px`;
  ghost.style.width = `${Math.max(8, len * state.pps)}px`;
  ghost.textContent = target.refused || dragged?.title || "";
  showSnapLine(target.refused ? null : snapAt);
}

document.addEventListener("dragover", (event) => {
  if (!isMediaDrag(event) || !regionEl()?.contains(event.target)) return;
  const target = dropTarget(event);
  if (!target) return;
  event.preventDefault(); // also for a refusal, so the ghost can say why
  event.dataTransfer.dropEffect = target.refused ? "none" : "copy";
  showGhost(target, event);
});

document.addEventListener("dragleave", (event) => {
  const region = regionEl();
  if (region && !region.contains(event.relatedTarget)) clearDropLook();
});

document.addEventListener("drop", (event) => {
  if (!isMediaDrag(event) || !regionEl()?.contains(event.target)) return;
  event.preventDefault();
  const target = dropTarget(event);
  const raw = event.dataTransfer.getData(MEDIA_TYPE) || event.dataTransfer.getData("text/plain").replace(/^media:/, "");
  const mediaId = /^\d+$/.test(raw) ? raw : dragged?.id;
  const { start } = dropStart(event);
  clearDropLook();
  dragged = null;
  if (!target || !mediaId) return;
  if (target.refused) {
    toast(target.refused);
    return;
  }
  edit("clips/add/", { media_id: mediaId, start: start.toFixed(3), track_id: target.trackId || undefined });
});

// --- Moving and trimming clips -------------------------------------------------------------------
let gesture = null;

function beginGesture(event, el) {
  const primary = clipInfo(el);
  const handle = event.target.closest(".tl-handle");
  const mode = handle ? `trim-${handle.dataset.edge}` : "move";
  const ids = mode === "move" ? withLinked(state.selection.has(primary.id) ? [...state.selection] : [primary.id]) : withLinked([primary.id]);
  const clips = [...ids].map(clipEl).filter(Boolean).map(clipInfo);
  gesture = {
    mode,
    primary,
    clips,
    x0: event.clientX,
    y0: event.clientY,
    pointerId: event.pointerId,
    moved: false,
    delta: 0,
    targetLane: null,
    newTrack: false,
    targets: snapTargets(ids),
  };
}

document.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  const region = regionEl();
  if (!region || !region.contains(event.target)) return;
  const el = event.target.closest(".tl-clip");
  if (el) {
    const id = el.dataset.clipId;
    if (event.shiftKey || event.ctrlKey || event.metaKey) select([id], { toggle: true });
    else if (!state.selection.has(id)) select([id]);
    el.focus({ preventScroll: true });
    if (el.closest(".tl-track")?.dataset.locked) return;
    beginGesture(event, el);
    el.setPointerCapture?.(event.pointerId);
    event.preventDefault();
    return;
  }
  if (event.target.closest("[data-ruler]") || event.target.closest(".tl-lane, .tl-newtrack-hint")) {
    // Scrub: the ruler always; an empty lane spot also clears the selection.
    if (!event.target.closest("[data-ruler]") && !event.shiftKey) select([]);
    gesture = { mode: "scrub", pointerId: event.pointerId };
    scrubTo(event.clientX);
    event.target.setPointerCapture?.(event.pointerId);
    event.preventDefault();
  }
});

function scrubTo(clientX) {
  let t = snapToFrame(timeAt(clientX));
  const snap = findSnap([t], snapTargets().slice(2).concat([0]));
  if (snap && state.snap) t = snap.at;
  seek(t);
}

document.addEventListener("pointermove", (event) => {
  if (!gesture || event.pointerId !== gesture.pointerId) return;
  if (gesture.mode === "scrub") {
    scrubTo(event.clientX);
    return;
  }
  const dx = event.clientX - gesture.x0;
  if (!gesture.moved && Math.abs(dx) < DRAG_THRESHOLD_PX && Math.abs(event.clientY - gesture.y0) < DRAG_THRESHOLD_PX) return;
  if (!gesture.moved) {
    gesture.moved = true;
    state.interacting = true;
    for (const c of gesture.clips) c.el.classList.add("is-dragging");
  }
  let delta = dx / state.pps;
  if (gesture.mode === "move") moveLook(event, delta);
  else trimLook(delta);
});

function moveLook(event, rawDelta) {
  const g = gesture;
  const earliest = Math.min(...g.clips.map((c) => c.start));
  const raw = Math.max(rawDelta, -earliest);
  const edges = g.clips.flatMap((c) => [c.start + raw, c.end + raw]);
  const snap = snapToStart(earliest + raw) || findSnap(edges, g.targets);
  let delta = snap ? raw + snap.delta : snapToFrame(raw);
  delta = Math.max(delta, -earliest);
  g.delta = delta;
  showSnapLine(snap ? snap.at : null);
  for (const c of g.clips) c.el.style.setProperty("--start", (c.start + delta).toFixed(3));
  // Between tracks: only the clicked clip changes track, onto a lane of its kind; below
  // the last track makes a new one.
  // What is under the pointer besides the dragged clips themselves: once the clip is shown
  // over the other lane it covers that lane, and the move flickered back to its own track.
  const under = document.elementsFromPoint(event.clientX, event.clientY).find((el) => !el.closest(".is-dragging"));
  const lane = under?.closest?.(".tl-lane");
  const primaryEl = g.primary.el;
  g.targetLane = null;
  g.newTrack = false;
  primaryEl.style.transform = "";
  if (lane && lane.dataset.kind === g.primary.trackKind && lane.dataset.trackId !== g.primary.trackId && !lane.closest(".tl-track")?.dataset.locked) {
    g.targetLane = lane;
  } else if (under?.closest?.("[data-new-track]")) {
    g.newTrack = true;
  }
  if (g.targetLane || g.newTrack) {
    const from = primaryEl.parentElement.getBoundingClientRect();
    const to = (g.targetLane || under.closest("[data-new-track]")).getBoundingClientRect();
    primaryEl.style.transform = `translateY(${to.top - from.top}px)`;
  }
}

function trimLook(rawDelta) {
  const g = gesture;
  const c = g.primary;
  const fpsMin = 0.04;
  let delta;
  if (g.mode === "trim-in") {
    const edge = c.start + rawDelta;
    const snap = snapSpan(edge, edge, g.targets);
    delta = snap ? rawDelta + snap.delta : snapToFrame(rawDelta);
    // Never before the source's start or the timeline's start, never shorter than a sliver.
    delta = Math.max(delta, -c.in, -c.start);
    delta = Math.min(delta, c.len - fpsMin);
    showSnapLine(snap ? snap.at : null);
    for (const p of g.clips) {
      p.el.style.setProperty("--start", (p.start + delta).toFixed(3));
      p.el.style.setProperty("--len", (p.len - delta).toFixed(3));
      p.el.style.setProperty("--in", (p.in + delta).toFixed(3));
    }
  } else {
    const snap = findSnap([c.end + rawDelta], g.targets);
    delta = snap ? rawDelta + snap.delta : snapToFrame(rawDelta);
    delta = Math.min(delta, c.srcDur - c.out);
    delta = Math.max(delta, -(c.len - fpsMin));
    showSnapLine(snap ? snap.at : null);
    for (const p of g.clips) p.el.style.setProperty("--len", (p.len + delta).toFixed(3));
  }
  g.delta = delta;
}

function endGesture(event, cancelled = false) {
  if (!gesture || event.pointerId !== gesture.pointerId) return;
  const g = gesture;
  gesture = null;
  showSnapLine(null);
  if (g.mode === "scrub") return;
  state.interacting = false;
  for (const c of g.clips) c.el.classList.remove("is-dragging");
  if (!g.moved) {
    if (state.pendingResync) {
      state.pendingResync = false;
      refetch();
    }
    return;
  }
  state.pendingResync = false;
  if (cancelled || (Math.abs(g.delta) < 1e-6 && !g.targetLane && !g.newTrack)) {
    refetch();
    return;
  }
  const p = g.primary;
  if (g.mode === "move") {
    if (g.targetLane || g.newTrack || g.clips.length <= 1 || withLinked([p.id]).size === g.clips.length) {
      edit("clips/move/", {
        clip_id: p.id,
        start: (p.start + g.delta).toFixed(3),
        track_id: g.targetLane ? g.targetLane.dataset.trackId : p.trackId,
        new_track: g.newTrack ? "1" : undefined,
      });
    } else {
      edit("clips/shift/", { clip_ids: [...state.selection], delta: g.delta.toFixed(3) });
    }
  } else if (g.mode === "trim-in") {
    edit("clips/trim/", { clip_id: p.id, edge: "in", point: (p.in + g.delta).toFixed(3) });
  } else {
    edit("clips/trim/", { clip_id: p.id, edge: "out", point: (p.out + g.delta).toFixed(3) });
  }
}

document.addEventListener("pointerup", (event) => endGesture(event));
document.addEventListener("pointercancel", (event) => endGesture(event, true));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && gesture && gesture.mode !== "scrub") {
    const g = gesture;
    endGesture({ pointerId: g.pointerId }, true);
  }
});

// Ctrl/Cmd + wheel zooms around the pointer; plain wheel scrolls as usual.
export function bindWheelZoom(setZoom) {
  document.addEventListener(
    "wheel",
    (event) => {
      const sc = scroller();
      if (!sc || !sc.contains(event.target) || !(event.ctrlKey || event.metaKey)) return;
      event.preventDefault();
      setZoom(state.pps * (event.deltaY < 0 ? 1.2 : 1 / 1.2), { anchorTime: timeAt(event.clientX) });
    },
    { passive: false },
  );
}
