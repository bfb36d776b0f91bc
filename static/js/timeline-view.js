// Drawing that depends on the zoom: canvas length, ruler ticks, playhead, filmstrip tiles.
// Clip positions themselves are pure CSS (--start/--len times --pps), so a zoom only
// changes one custom property and re-tiles the filmstrips.
import {
  MAX_PPS,
  MIN_PPS,
  allClips,
  docEl,
  duration,
  emit,
  formatTime,
  headWidth,
  regionEl,
  state,
} from "./timeline-core.js";

// Labelled steps start at a tenth: the time format shows tenths, so finer labels would repeat.
const TICK_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
const MIN_LABEL_PX = 72;
const MAX_CANVAS_PX = 400000;

export const scroller = () => regionEl()?.querySelector(".tl-scroll");

/** The length the canvas shows: the edit plus room to drop after it, at least one screen. */
function canvasLength() {
  const sc = scroller();
  const visible = sc ? (sc.clientWidth - headWidth()) / state.pps : 30;
  return Math.max(duration() + Math.max(10, visible * 0.5), visible, 10);
}

export function setZoom(pps, { anchorTime = null } = {}) {
  const region = regionEl();
  const sc = scroller();
  const next = Math.min(MAX_PPS, Math.max(MIN_PPS, pps));
  let offset = null;
  if (sc) {
    const t = anchorTime ?? state.playhead;
    offset = t * state.pps - sc.scrollLeft; // keep this time at the same screen x
  }
  state.pps = next;
  if (region) region.style.setProperty("--pps", String(next));
  layout();
  if (sc && offset !== null) sc.scrollLeft = (anchorTime ?? state.playhead) * next - offset;
  const slider = document.querySelector("[data-zoom]");
  if (slider) slider.value = String(Math.round(ppsToSlider(next)));
  emit("zoom");
}

// The slider is logarithmic so both ends are usable.
const ppsToSlider = (pps) => (Math.log(pps / MIN_PPS) / Math.log(MAX_PPS / MIN_PPS)) * 1000;
export const sliderToPps = (v) => MIN_PPS * (MAX_PPS / MIN_PPS) ** (v / 1000);

export function zoomFit() {
  const sc = scroller();
  if (!sc) return;
  const span = Math.max(duration(), 5);
  setZoom((sc.clientWidth - headWidth() - 24) / span, { anchorTime: 0 });
  sc.scrollLeft = 0;
}

export function layout() {
  const region = regionEl();
  if (!region) return;
  region.style.setProperty("--pps", String(state.pps));
  const len = Math.min(canvasLength(), MAX_CANVAS_PX / state.pps);
  region.style.setProperty("--tl-len", len.toFixed(3));
  drawRuler(len);
  drawMedia();
  drawPlayhead();
  updateToolbar();
}

function drawRuler(len) {
  const ruler = regionEl()?.querySelector("[data-ruler]");
  if (!ruler) return;
  const step = TICK_STEPS.find((s) => s * state.pps >= MIN_LABEL_PX) || TICK_STEPS[TICK_STEPS.length - 1];
  const minor = step / (step >= 1 && step % 5 === 0 ? 5 : step >= 1 ? 4 : 2);
  regionEl().style.setProperty("--minor-px", (minor * state.pps).toFixed(2));
  regionEl().style.setProperty("--major-px", (step * state.pps).toFixed(2));
  const frag = document.createDocumentFragment();
  for (let t = 0, i = 0; t <= len; i += 1, t = i * step) {
    const tick = document.createElement("span");
    tick.className = "tl-tick";
    tick.style.left = `${t * state.pps}px`;
    tick.dataset.t = t.toFixed(3);
    tick.textContent = formatTime(t);
    frag.appendChild(tick);
  }
  ruler.replaceChildren(frag);
}

export function drawPlayhead() {
  const region = regionEl();
  if (!region) return;
  const head = region.querySelector(".tl-playhead");
  if (head) head.style.setProperty("--t", state.playhead.toFixed(4));
  const small = region.querySelector("[data-timecode-small]");
  if (small) small.textContent = formatTime(state.playhead);
  const editor = document.getElementById("editor");
  const tc = editor?.querySelector("[data-timecode]");
  if (tc) tc.textContent = formatTime(state.playhead);
  const total = editor?.querySelector("[data-duration]");
  if (total) total.textContent = formatTime(duration());
}

/** Keep the playhead on screen while playing (page-flip like desktop editors). */
export function followPlayhead() {
  const sc = scroller();
  if (!sc) return;
  const x = state.playhead * state.pps;
  const left = sc.scrollLeft;
  const width = sc.clientWidth - headWidth();
  if (x < left || x > left + width - 16) sc.scrollLeft = Math.max(0, x - width * 0.1);
}

export function updateToolbar() {
  const doc = docEl();
  const editor = document.getElementById("editor");
  if (!editor) return;
  const set = (action, enabled) => {
    for (const b of editor.querySelectorAll(`[data-action="${action}"]`)) b.disabled = !enabled;
  };
  set("undo", doc?.dataset.canUndo === "1");
  set("redo", doc?.dataset.canRedo === "1");
  const hasSel = state.selection.size > 0;
  set("delete", hasSel);
  set("ripple-delete", hasSel);
  set("copy", hasSel);
  set("paste", state.clipboard.length > 0);
  const snap = editor.querySelector('[data-action="snap"]');
  if (snap) snap.setAttribute("aria-pressed", state.snap ? "true" : "false");
  // An empty timeline has nothing to export: say so instead of refusing after the dialog.
  const empty = allClips().length === 0;
  set("export-open", !empty);
  for (const b of editor.querySelectorAll('[data-action="export-open"]')) {
    b.title = empty ? "Add a clip to the timeline to export it." : "Export this timeline as an MP4";
  }
}

// --- Clip tiles ---------------------------------------------------------------------------
function aspectOf(el) {
  const [w, h] = (el.dataset.aspect || "16/9").split("/").map(Number);
  return w > 0 && h > 0 ? w / h : 16 / 9;
}

/** Filmstrip: fixed-size frame tiles across the clip, each showing the sprite frame for
 *  the source time under its centre (frames are never stretched when zooming). */
function tileFilmstrip(el) {
  const media = el.querySelector(".tl-clip-media");
  if (!media) return;
  const frames = parseInt(el.dataset.frames || "0", 10);
  const url = el.dataset.filmstrip;
  const height = media.clientHeight || 50;
  const inPt = parseFloat(el.dataset.in);
  const len = parseFloat(el.dataset.out) - inPt;
  const srcDur = parseFloat(el.dataset.srcDuration || "0") || len;
  const width = len * state.pps;
  const tileW = Math.max(16, Math.round(height * aspectOf(el)));
  const count = Math.min(200, Math.ceil(width / tileW));
  const key = `${url}|${frames}|${tileW}|${count}|${inPt}|${len}|${state.pps.toFixed(3)}`;
  if (media.dataset.key === key) return;
  media.dataset.key = key;
  const frag = document.createDocumentFragment();
  for (let i = 0; i < count; i += 1) {
    const tile = document.createElement("span");
    tile.style.width = `${tileW}px`;
    if (url && frames > 0) {
      const t = inPt + ((i + 0.5) * tileW) / state.pps;
      const index = Math.min(frames - 1, Math.max(0, Math.floor((t / srcDur) * frames)));
      tile.style.backgroundImage = `url("${url}")`;
      tile.style.backgroundSize = `${frames * tileW}px ${height}px`;
      tile.style.backgroundPosition = `${-index * tileW}px 0`;
    }
    frag.appendChild(tile);
  }
  media.replaceChildren(frag);
}

function tileImage(el) {
  const media = el.querySelector(".tl-clip-media");
  const url = el.dataset.src;
  if (!media || !url || media.dataset.key === url) return;
  media.dataset.key = url;
  media.style.backgroundImage = `url("${url}")`;
  media.style.backgroundSize = "auto 100%";
  media.style.backgroundRepeat = "repeat-x";
}

function waveform(el) {
  const media = el.querySelector(".tl-clip-media");
  const url = el.dataset.waveform;
  if (!media || !url || media.dataset.key === url) return;
  media.dataset.key = url;
  media.style.backgroundImage = `url("${url}")`;
}

function drawMedia() {
  const doc = docEl();
  if (!doc) return;
  for (const el of doc.querySelectorAll(".tl-clip")) {
    if (el.dataset.trackKind === "audio") waveform(el);
    else if (el.dataset.kind === "image") tileImage(el);
    else tileFilmstrip(el);
  }
}
