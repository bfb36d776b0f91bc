// Generation panel behaviour. Everything stateful is rendered by the server; this module
// only does what a server cannot: count characters as they are typed, tick clocks between
// pushes, insert a template at the caret, accept a dropped media card, count down a
// cooldown, and keep a card from being inserted twice. It is loaded once per page and
// uses event delegation, because the panel's fragments are swapped in and out by htmx.

const MEDIA_MIME = "application/x-cutroom-media";

// --- Prompt character count ---------------------------------------------------------------
function updateCount() {
  const prompt = document.getElementById("gen-prompt");
  const counter = document.getElementById("prompt-count");
  const limitEl = document.getElementById("prompt-limit");
  if (!prompt || !counter || !limitEl) return;
  const limit = parseInt(limitEl.textContent, 10) || 0;
  // Same rule as the server: control characters do not count, surrounding space neither.
  // eslint-disable-next-line no-control-regex
  const length = prompt.value.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "").trim().length;
  const used = document.getElementById("prompt-used");
  if (used) used.textContent = String(length);
  counter.dataset.state = limit && length > limit ? "over" : limit && length > limit * 0.9 ? "near" : "ok";
}

document.addEventListener("input", (event) => {
  if (event.target && event.target.id === "gen-prompt") updateCount();
});

// --- Prompt templates ------------------------------------------------------------------------
function templateMode() {
  const checked = document.querySelector('input[name="tpl_mode"]:checked');
  return checked ? checked.value : "replace";
}

function applyTemplate(button) {
  const prompt = document.getElementById("gen-prompt");
  if (!prompt) return;
  const text = button.dataset.prompt || "";
  if (templateMode() === "insert" && prompt.value) {
    const start = prompt.selectionStart ?? prompt.value.length;
    const end = prompt.selectionEnd ?? start;
    const before = prompt.value.slice(0, start);
    const after = prompt.value.slice(end);
    const sep = before && !/\s$/.test(before) ? " " : "";
    prompt.value = before + sep + text + after;
    const caret = (before + sep + text).length;
    prompt.setSelectionRange(caret, caret);
  } else {
    prompt.value = text;
    const negative = document.getElementById("gen-negative");
    if (negative && button.dataset.negative && !negative.value.trim()) {
      negative.value = button.dataset.negative;
    }
  }
  prompt.focus();
  updateCount();
  // The composer re-estimates on input, exactly as if the user had typed.
  prompt.dispatchEvent(new Event("input", { bubbles: true }));
  prompt.dispatchEvent(new Event("change", { bubbles: true }));
  const status = document.getElementById("tpl-status");
  if (status) status.textContent = `Template “${button.dataset.title || ""}” ${templateMode() === "insert" ? "inserted" : "applied"}.`;
}

document.addEventListener("click", (event) => {
  const useButton = event.target.closest && event.target.closest("[data-template-use]");
  if (useButton) {
    event.preventDefault();
    applyTemplate(useButton);
    return;
  }
  const reveal = event.target.closest && event.target.closest("[data-reveal-media]");
  if (reveal) {
    event.preventDefault();
    revealMedia(reveal.dataset.revealMedia);
  }
});

// --- Reveal a finished clip in the media panel ----------------------------------------------
function revealMedia(mediaId) {
  const card = document.getElementById(`media-${mediaId}`);
  if (!card) {
    // The media panel may not have it yet (paged, or still loading): ask it to re-sync.
    document.body.dispatchEvent(new CustomEvent("live:resync", { bubbles: true }));
    return;
  }
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.classList.remove("reveal");
  // Restart the animation even when the same card is revealed twice in a row.
  void card.offsetWidth;
  card.classList.add("reveal");
  if (!card.hasAttribute("tabindex")) card.setAttribute("tabindex", "-1");
  card.focus({ preventScroll: true });
  setTimeout(() => card.classList.remove("reveal"), 2600);
}

// --- Elapsed and ETA clocks ---------------------------------------------------------------
function fmt(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m}:${String(s).padStart(2, "0")}` : `${s} s`;
}

function tick() {
  const now = Date.now() / 1000;
  for (const el of document.querySelectorAll("[data-since]")) {
    const since = parseFloat(el.dataset.since);
    if (!Number.isNaN(since)) el.textContent = fmt(now - since);
  }
  for (const el of document.querySelectorAll("[data-until]")) {
    const until = parseFloat(el.dataset.until);
    if (Number.isNaN(until)) continue;
    const left = until - now;
    // "about 20 s" in a waiting card's line ("2nd in line, about 20 s"), else "~20 s left".
    if (el.dataset.untilStyle === "about") el.textContent = left > 0 ? `about ${fmt(left)}` : "any moment";
    else el.textContent = left > 0 ? `~${fmt(left)} left` : "any moment";
  }
  for (const button of document.querySelectorAll("[data-cooldown-until]")) {
    const until = parseFloat(button.dataset.cooldownUntil);
    const left = Math.ceil(until - now);
    const label = button.querySelector("[data-cooldown-label]");
    if (left > 0) {
      if (label) label.textContent = `wait ${left} s`;
      continue;
    }
    button.removeAttribute("data-cooldown-until");
    if (label) label.textContent = "";
    // Ask the server for a fresh verdict instead of guessing the button's state here.
    const fields = document.getElementById("gen-fields");
    if (fields && window.htmx) window.htmx.trigger(fields, "change");
  }
}
setInterval(tick, 1000);

// --- Let the composer show 422 (validation) and 429 (cooldown) answers --------------------------
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr && event.detail.xhr.status;
  const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
  if ((status === 422 || status === 429 || status === 409) && elt && elt.closest && elt.closest("#generation-panel")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// --- Never show the same job card twice ----------------------------------------------------
// A new card can arrive twice: in the Generate response and in the pipeline's push. Keep the
// newer one (cards carry data-version, the job's updated_at) and drop the other.
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
let historyTimer = null;

document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
  const { fragment, target } = event.detail;
  if (!fragment || !target) return;
  // A card turning Done/Failed/Cancelled: the history list below gains a row.
  if (target.classList && target.classList.contains("job-card")) {
    const incoming = fragment.querySelector ? fragment.querySelector(".job-card") : null;
    if (incoming && TERMINAL.has(incoming.dataset.status) && !TERMINAL.has(target.dataset.status)) {
      clearTimeout(historyTimer);
      historyTimer = setTimeout(() => document.body.dispatchEvent(new CustomEvent("gen:history")), 400);
    }
    return;
  }
  if (target.id !== "job-list") return;
  for (const incoming of [...fragment.querySelectorAll(".job-card[id^='job-']")]) {
    const existing = document.getElementById(incoming.id);
    if (!existing) continue;
    const oldVersion = parseFloat(existing.dataset.version || "0");
    const newVersion = parseFloat(incoming.dataset.version || "0");
    if (newVersion >= oldVersion) existing.remove();
    else incoming.remove();
  }
});

// --- The composer's notice ("Started 1 generation.") -------------------------------------------
// One message at a time: whatever the composer asks next (an estimate, another Generate)
// brings its own answer, so the old notice goes when the request leaves; typing in the
// prompt clears it too, and it clears itself once read (NOTICE_MS). Never two at once.
const NOTICE_MS = 8000;
let noticeTimer = null;
let timedNotice = null;

function clearNotice() {
  clearTimeout(noticeTimer);
  timedNotice = null;
  const notice = document.getElementById("gen-notice");
  if (notice) notice.textContent = "";
}

function armNotice() {
  const notice = document.getElementById("gen-notice");
  if (!notice || !notice.textContent.trim()) return;
  // A new notice is a new element (swapped out of band): give it its own full time.
  if (notice === timedNotice) return;
  timedNotice = notice;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(clearNotice, NOTICE_MS);
}

document.body.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail && event.detail.elt;
  if (elt && elt.closest && elt.closest("#gen-composer")) clearNotice();
});

document.addEventListener("input", (event) => {
  if (event.target && event.target.id === "gen-prompt") clearNotice();
});

// --- The unsent prompt, kept across reloads --------------------------------------------------
// In this browser's localStorage under the signed-in user's id (data-user-id on the
// composer), so another person signing in here never sees it: their page reads only their
// own key and removes anyone else's, and signing out removes it. Cleared once a generation
// starts (the server's answer triggers gen:started).
const DRAFT_PREFIX = "cutroom:composer-draft:";

function draftKey() {
  const form = document.getElementById("gen-composer");
  const user = form && form.dataset.userId;
  return user ? DRAFT_PREFIX + user : null;
}

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the draft simply is not kept
  }
}

function removeDrafts(keep) {
  const store = storage();
  if (!store) return;
  for (let i = store.length - 1; i >= 0; i -= 1) {
    const key = store.key(i);
    if (key && key.startsWith(DRAFT_PREFIX) && key !== keep) store.removeItem(key);
  }
}

function saveDraft() {
  const key = draftKey();
  const prompt = document.getElementById("gen-prompt");
  const store = storage();
  if (!key || !prompt || !store) return;
  try {
    if (prompt.value.trim()) store.setItem(key, prompt.value);
    else store.removeItem(key);
  } catch {
    /* quota: the draft is not kept */
  }
}

function restoreDraft() {
  const form = document.getElementById("gen-composer");
  const prompt = document.getElementById("gen-prompt");
  const key = draftKey();
  const store = storage();
  if (!form || !prompt || !key || !store || form.dataset.draftChecked) return;
  form.dataset.draftChecked = "1";
  removeDrafts(key);
  // A composer that arrives filled ("Use these settings") keeps what it was given.
  if (prompt.value) return;
  const saved = store.getItem(key);
  if (!saved) return;
  prompt.value = saved;
  updateCount();
  // Priced and validated exactly as if the creator had typed it.
  const fields = document.getElementById("gen-fields");
  if (fields && window.htmx) {
    // On the first load this module runs before htmx has wired the page (it does so on
    // DOMContentLoaded): the change would reach no listener and Generate stayed disabled
    // (seen in CI). process() wires the fields now; htmx skips nodes it already wired.
    window.htmx.process(fields);
    window.htmx.trigger(fields, "change");
  }
}

document.addEventListener("input", (event) => {
  if (event.target && event.target.id === "gen-prompt") saveDraft();
});

document.body.addEventListener("gen:started", () => {
  const key = draftKey();
  const store = storage();
  if (key && store) store.removeItem(key);
});

document.addEventListener("submit", (event) => {
  if (event.target && event.target.matches && event.target.matches("[data-sign-out]")) removeDrafts(null);
});

document.body.addEventListener("htmx:afterSettle", () => {
  updateCount();
  armNotice();
  restoreDraft();
});

// --- Source image: drop a media card on the composer ------------------------------------------
function droppedMediaId(dataTransfer) {
  const raw = dataTransfer.getData(MEDIA_MIME);
  if (raw) {
    try {
      const parsed = JSON.parse(raw);
      if (parsed && typeof parsed === "object" && parsed.id != null) return String(parsed.id);
      if (typeof parsed === "number") return String(parsed);
    } catch {
      /* not JSON: a bare id */
    }
    const match = raw.match(/(\d+)/);
    if (match) return match[1];
  }
  const text = dataTransfer.getData("text/plain") || "";
  const match = text.match(/^media:(\d+)$/);
  return match ? match[1] : null;
}

function dropZone(target) {
  return target && target.closest ? target.closest("[data-image-drop]") : null;
}

document.addEventListener("dragover", (event) => {
  const zone = dropZone(event.target);
  if (!zone) return;
  const types = [...(event.dataTransfer ? event.dataTransfer.types : [])];
  if (types.includes(MEDIA_MIME) || types.includes("text/plain")) {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("drag-over");
  }
});

document.addEventListener("dragleave", (event) => {
  const zone = dropZone(event.target);
  if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("drag-over");
});

document.addEventListener("drop", (event) => {
  const zone = dropZone(event.target);
  if (!zone) return;
  event.preventDefault();
  zone.classList.remove("drag-over");
  const id = droppedMediaId(event.dataTransfer);
  const select = document.getElementById("gen-image");
  if (!id || !select) return;
  if (![...select.options].some((o) => o.value === id)) {
    const option = new Option(`Media #${id}`, id);
    select.add(option);
  }
  select.value = id;
  select.dispatchEvent(new Event("change", { bubbles: true }));
});

document.addEventListener("change", (event) => {
  if (!event.target || event.target.id !== "gen-image") return;
  const preview = document.getElementById("gen-image-preview");
  const option = event.target.selectedOptions[0];
  if (!preview) return;
  const thumb = option ? option.dataset.thumb : "";
  preview.hidden = !thumb;
  if (thumb) preview.src = thumb;
});

updateCount();
restoreDraft();
tick();

export { revealMedia, updateCount };
