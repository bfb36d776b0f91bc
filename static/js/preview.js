// The preview player: plays the timeline as it will export, approximately. At each moment it
// shows the clip of the topmost visible video track that has one (upper tracks cover lower
// ones), and plays the sound of every unmuted audio track (a video's own sound lives on its
// linked audio clip, as in the export). Exact compositing is the export's job.
//
// Fades and volume follow the export's filters: a picture fade is the export's frame-counted
// `fade` (frame k of n shows k/n of the picture, over the stage's black); a sound fade is
// `afade`'s linear ramp, times the clip's volume, through a Web Audio gain (a media element
// cannot go above 100 %).
//
// The clock: while a video is showing and playing, its currentTime drives the playhead (so
// a buffering video holds the playhead instead of running ahead); in gaps a wall clock does.
import { allClips, docEl, duration, editorEl, emit, fps, state } from "./timeline-core.js";
import { drawPlayhead, followPlayhead } from "./timeline-view.js";

const DRIFT_S = 0.25;
const POOL_SIZE = 4;
const SHUTTLE_RATES = [1, 2, 4, 8];

const player = {
  playing: false,
  rate: 1, // negative = backwards
  wall0: 0,
  t0: 0,
  raf: 0,
  videos: new Map(), // src -> <video>
  audios: new Map(), // track id -> <audio>
  image: null,
  active: null, // the element on show
  activeClip: null,
  seekTimer: 0,
};

const stage = () => document.getElementById("preview-stage");

// --- What is on screen at time t ---------------------------------------------------------------
// Layers are read from the timeline DOM once per swap (every stored change replaces the
// .tl-doc element), not on every animation frame.
let cached = { doc: null, value: null };

function layers() {
  const doc = docEl();
  if (!doc) return { video: [], audio: [] };
  if (cached.doc === doc) return cached.value;
  cached = { doc, value: readLayers(doc) };
  return cached.value;
}

function readLayers(doc) {
  const tracks = [...doc.querySelectorAll(".tl-track")];
  const clipsByTrack = new Map();
  for (const c of allClips()) {
    if (!clipsByTrack.has(c.trackId)) clipsByTrack.set(c.trackId, []);
    clipsByTrack.get(c.trackId).push(c);
  }
  const video = [];
  const audio = [];
  for (const tr of tracks) {
    const list = clipsByTrack.get(tr.dataset.trackId) || [];
    if (tr.dataset.kind === "video" && !tr.dataset.hidden) video.push(list);
    if (tr.dataset.kind === "audio" && !tr.dataset.muted) audio.push({ id: tr.dataset.trackId, clips: list });
  }
  return { video, audio };
}

const at = (list, t) => list.find((c) => t >= c.start - 1e-4 && t < c.end - 1e-4) || null;

function visualAt(t) {
  for (const list of layers().video) {
    const c = at(list, t);
    if (c) return c;
  }
  return null;
}

function nextVisualAfter(t) {
  let best = null;
  for (const list of layers().video) {
    for (const c of list) if (c.start > t && (!best || c.start < best.start)) best = c;
  }
  return best;
}

// --- Elements ------------------------------------------------------------------------------------
function videoFor(src) {
  let v = player.videos.get(src);
  if (v && v.isConnected) return v;
  const host = stage();
  if (!host) return null;
  if (player.videos.size >= POOL_SIZE) {
    // Drop the least recently used element that is not on show.
    for (const [key, el] of player.videos) {
      if (el !== player.active) {
        el.removeAttribute("src");
        el.load();
        el.remove();
        player.videos.delete(key);
        break;
      }
    }
  }
  v = document.createElement("video");
  v.preload = "auto";
  v.muted = true; // sound comes from the audio tracks, as in the export
  v.playsInline = true;
  v.src = src;
  v.addEventListener("error", () => v.classList.add("is-broken"));
  host.appendChild(v);
  player.videos.set(src, v);
  return v;
}

function imageEl() {
  if (player.image && player.image.isConnected) return player.image;
  const host = stage();
  if (!host) return null;
  player.image = document.createElement("img");
  player.image.alt = "";
  host.appendChild(player.image);
  return player.image;
}

/** The export's picture fade at time t: frame k of the clip's frames on the output grid,
 *  fade in over n frames = k/n, fade out over its last n frames = 1 - j/n (vf_fade). */
function pictureFade(c, t, rate = fps()) {
  const first = Math.round(c.start * rate);
  const frames = Math.round(c.end * rate) - first;
  const k = Math.floor(t * rate + 1e-6) - first;
  let factor = 1;
  const nIn = Math.min(Math.round(c.fadeIn * rate), frames);
  const nOut = Math.min(Math.round(c.fadeOut * rate), frames);
  if (nIn > 0 && k < nIn) factor = Math.min(factor, Math.max(0, k) / nIn);
  if (nOut > 0 && k >= frames - nOut) factor = Math.min(factor, 1 - (k - (frames - nOut)) / nOut);
  return Math.max(0, Math.min(1, factor));
}

/** The export's sound level at time t: afade's linear ramps times the volume. */
function soundGain(c, t) {
  let factor = 1;
  if (c.fadeIn > 0) factor = Math.min(factor, (t - c.start) / c.fadeIn);
  if (c.fadeOut > 0) factor = Math.min(factor, (c.end - t) / c.fadeOut);
  return Math.max(0, Math.min(1, factor)) * c.volume;
}

function setOpacity(el, factor) {
  const value = factor >= 1 ? "" : factor.toFixed(3);
  if (el.style.opacity !== value) el.style.opacity = value;
}

// One AudioContext; each audio element gets its gain node the first time it plays.
let audioContext = null;
const gains = new WeakMap();

function gainOf(a) {
  if (gains.has(a)) return gains.get(a);
  let node = null;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (Context) {
    try {
      audioContext ||= new Context();
      node = audioContext.createGain();
      audioContext.createMediaElementSource(a).connect(node).connect(audioContext.destination);
    } catch (_) {
      node = null; // no Web Audio: the element's own volume, capped at 100 %
    }
  }
  gains.set(a, node);
  return node;
}

function setGain(a, gain) {
  const node = gainOf(a);
  if (node) {
    node.gain.value = gain;
    a.volume = 1;
  } else {
    a.volume = Math.max(0, Math.min(1, gain));
  }
  a.dataset.gain = gain.toFixed(3); // what is heard, readable by the browser tests
}

function show(el) {
  if (player.active === el) return;
  if (player.active) {
    player.active.classList.remove("is-active");
    player.active.style.opacity = "";
    if (player.active.tagName === "VIDEO") player.active.pause();
  }
  player.active = el;
  if (el) el.classList.add("is-active");
  const empty = stage()?.querySelector("[data-empty]");
  if (empty) empty.hidden = !!el;
}

function setTime(media, target) {
  if (Math.abs(media.currentTime - target) > 0.001) {
    try {
      media.currentTime = target;
    } catch (_) {
      /* not seekable yet: loadedmetadata will come */
    }
  }
}

// --- Rendering a moment -------------------------------------------------------------------------
function renderVisual(t, { playing }) {
  const c = visualAt(t);
  player.activeClip = c;
  if (!c || !c.src) {
    show(null);
    return;
  }
  if (c.kind === "image") {
    const img = imageEl();
    if (img.getAttribute("src") !== c.src) img.src = c.src;
    show(img);
    setOpacity(img, pictureFade(c, t));
    return;
  }
  const v = videoFor(c.src);
  if (!v) return;
  const target = c.in + (t - c.start);
  show(v);
  setOpacity(v, pictureFade(c, t));
  if (playing && player.rate > 0) {
    v.playbackRate = player.rate;
    if (Math.abs(v.currentTime - target) > DRIFT_S) setTime(v, target);
    if (v.paused) v.play().catch(() => {});
  } else {
    if (!v.paused) v.pause();
    if (v.seeking) {
      // Seek to the latest position once the current seek lands (scrubbing stays smooth).
      v.dataset.pending = String(target);
      if (!v.dataset.waiting) {
        v.dataset.waiting = "1";
        v.addEventListener(
          "seeked",
          () => {
            delete v.dataset.waiting;
            if (v.dataset.pending) setTime(v, parseFloat(v.dataset.pending));
            delete v.dataset.pending;
          },
          { once: true },
        );
      }
    } else {
      setTime(v, target);
    }
  }
  // Warm up the next source so the cut is instant.
  const next = nextVisualAfter(t);
  if (playing && next && next.src && next.kind !== "image" && next.start - t < 2) {
    const nv = videoFor(next.src);
    if (nv && nv !== v && nv.paused) setTime(nv, next.in);
  }
}

function renderAudio(t, { playing }) {
  const live = new Set();
  for (const track of layers().audio) {
    const c = at(track.clips, t);
    let a = player.audios.get(track.id);
    if (!c || !playing || player.rate < 0) {
      if (a && !a.paused) a.pause();
      continue;
    }
    if (!a) {
      a = document.createElement("audio");
      a.preload = "auto";
      stage()?.appendChild(a);
      player.audios.set(track.id, a);
    }
    live.add(track.id);
    if (a.dataset.src !== c.src) {
      a.dataset.src = c.src;
      a.src = c.src;
    }
    setGain(a, soundGain(c, t));
    a.playbackRate = player.rate;
    const target = c.in + (t - c.start);
    if (Math.abs(a.currentTime - target) > DRIFT_S) setTime(a, target);
    if (a.paused) a.play().catch(() => {});
  }
  for (const [id, a] of player.audios) if (!live.has(id) && !a.paused) a.pause();
}

function render(t, opts) {
  renderVisual(t, opts);
  renderAudio(t, opts);
}

// --- Transport -----------------------------------------------------------------------------
function setPlayhead(t) {
  state.playhead = Math.max(0, t);
  drawPlayhead();
  emit("playhead", { t: state.playhead });
}

function tick() {
  if (!player.playing) return;
  const end = duration();
  let t;
  const v = player.active && player.active.tagName === "VIDEO" ? player.active : null;
  const c = player.activeClip;
  if (v && c && player.rate > 0 && !v.seeking && v.readyState >= 3 && !v.paused) {
    t = c.start + (v.currentTime - c.in);
    // Re-base the wall clock on the video so a gap after it continues smoothly.
    player.t0 = t;
    player.wall0 = performance.now();
  } else if (v && c && player.rate > 0 && (v.seeking || v.readyState < 3)) {
    t = state.playhead; // buffering: hold
    player.t0 = t;
    player.wall0 = performance.now();
  } else {
    t = player.t0 + ((performance.now() - player.wall0) / 1000) * player.rate;
  }
  if ((player.rate > 0 && t >= end) || (player.rate < 0 && t <= 0)) {
    setPlayhead(Math.min(Math.max(t, 0), end));
    pause();
    return;
  }
  setPlayhead(t);
  render(t, { playing: true });
  followPlayhead();
  player.raf = requestAnimationFrame(tick);
}

function updateButtons() {
  const editor = editorEl();
  if (!editor) return;
  const btn = editor.querySelector('[data-action="play"]');
  if (btn) {
    btn.setAttribute("aria-label", player.playing ? "Pause" : "Play");
    btn.innerHTML = player.playing
      ? '<svg class="icon" width="16" height="16" viewBox="0 0 24 24" aria-hidden="true"><path d="M7 4h3v16H7zM14 4h3v16h-3z" fill="currentColor"/></svg>'
      : '<svg class="icon" width="16" height="16" viewBox="0 0 24 24" aria-hidden="true"><path d="M7 4l13 8-13 8z" fill="currentColor"/></svg>';
  }
  const rate = editor.querySelector("[data-rate]");
  if (rate) rate.textContent = player.playing && player.rate !== 1 ? `${player.rate > 0 ? "" : "◀ "}${Math.abs(player.rate)}×` : "";
  editor.classList.toggle("is-playing", player.playing);
}

function play(rate = 1) {
  if (duration() <= 0) return;
  if (rate > 0 && state.playhead >= duration() - 0.01) setPlayhead(0);
  player.rate = rate;
  player.playing = true;
  // Called from the click or key that started playback: a suspended context may resume.
  audioContext?.resume?.().catch?.(() => {});
  player.t0 = state.playhead;
  player.wall0 = performance.now();
  cancelAnimationFrame(player.raf);
  player.raf = requestAnimationFrame(tick);
  updateButtons();
}

export function pause() {
  player.playing = false;
  cancelAnimationFrame(player.raf);
  for (const v of player.videos.values()) v.pause();
  for (const a of player.audios.values()) a.pause();
  player.rate = 1;
  render(state.playhead, { playing: false });
  updateButtons();
}

export const isPlaying = () => player.playing;

export function togglePlay() {
  if (player.playing) pause();
  else play(1);
}

/** J/K/L: L plays forward and speeds up on repeat, J the same backwards, K stops. */
export function shuttle(direction) {
  if (direction === 0) {
    pause();
    return;
  }
  const current = player.playing ? player.rate : 0;
  const speed = Math.sign(current) === direction ? Math.abs(current) : 0;
  const nextSpeed = SHUTTLE_RATES.find((r) => r > speed) || SHUTTLE_RATES[SHUTTLE_RATES.length - 1];
  play(direction * nextSpeed);
}

export function seek(t) {
  const clamped = Math.max(0, Math.min(t, Math.max(duration(), 0)));
  if (player.playing) {
    player.t0 = clamped;
    player.wall0 = performance.now();
    const c = visualAt(clamped);
    if (c && player.active && player.active.tagName === "VIDEO") setTime(player.active, c.in + (clamped - c.start));
  }
  setPlayhead(clamped);
  render(clamped, { playing: player.playing });
}

/** After the timeline or the panel changed: drop elements of a replaced stage, redraw. */
export function refresh() {
  const host = stage();
  if (!host) return;
  for (const [key, v] of player.videos) if (!host.contains(v)) player.videos.delete(key);
  for (const [key, a] of player.audios) if (!host.contains(a)) player.audios.delete(key);
  if (player.image && !host.contains(player.image)) player.image = null;
  if (player.active && !host.contains(player.active)) player.active = null;
  if (state.playhead > duration()) state.playhead = duration();
  drawPlayhead();
  if (!player.playing) render(state.playhead, { playing: false });
  updateButtons();
}
