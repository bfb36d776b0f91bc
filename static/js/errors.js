// Errors from htmx requests land in place, styled; they never swap a page into a panel.
//
// The convention, for every htmx request on every page:
//  1. A 4xx/5xx response is not swapped into the request's target. It is swapped only when it is
//     a fragment meant for that target, and the server says so by sending an `HX-Retarget` or
//     `HX-Reswap` header (the server picked where the fragment goes), or a panel script opted the
//     fragment in earlier in the same htmx:beforeSwap (generate.js does, for the composer's
//     409/422/429 fragments). Both listeners below sit on `document`, so the panel scripts'
//     listeners on `document.body` have already run.
//  2. Anything not swapped is told in a toast: the server's sentence (JSON `message` or `error`,
//     or a text/plain body); for an HTML error page, a plain sentence with the status, never the
//     page itself.
//  3. A region marked `data-own-errors` shows its own refusals (the editor: timeline.js puts them
//     in its dialogs or its toasts), so they are not told twice. Rule 1 still holds there.
//  4. The request never reached the server (htmx:sendError): one toast saying so, everywhere.

const NETWORK_MESSAGE = "Could not reach the server — check your connection and try again.";
const ERROR_TOAST_MS = 10_000;
const INFO_TOAST_MS = 6_000;
const MAX_SENTENCE = 300;

const STATUS_SENTENCES = {
  401: "You are signed out — sign in again to continue.",
  403: "That was refused (403) — your session may have expired; reload the page.",
  404: "That is no longer there (404) — it may have been deleted; reload to see the current state.",
  408: "The server took too long to answer (408) — try again.",
  413: "That was too large for the server (413).",
  429: "Too many requests (429) — wait a moment and try again.",
  502: "The server is not answering (502) — try again in a moment.",
  503: "The service is temporarily unavailable (503) — try again in a moment.",
  504: "The server took too long to answer (504) — try again in a moment.",
};

function statusSentence(status) {
  if (STATUS_SENTENCES[status]) return STATUS_SENTENCES[status];
  if (status >= 500) return `The server hit an error (${status}) — try again in a moment.`;
  return `That request was refused (${status}).`;
}

function clip(text) {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > MAX_SENTENCE ? `${one.slice(0, MAX_SENTENCE - 1)}…` : one;
}

/** The server's own sentence for an error response, else a plain one with the status. */
export function errorMessage(xhr) {
  const type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
  const body = typeof xhr.responseText === "string" ? xhr.responseText : "";
  if (type.includes("json")) {
    try {
      const data = JSON.parse(body);
      const sentence = data && (data.message || data.error || data.detail);
      if (typeof sentence === "string" && sentence.trim()) return clip(sentence);
    } catch (_) {
      /* not JSON after all: fall back to the status */
    }
  } else if (type.startsWith("text/plain") && body.trim()) {
    return clip(body);
  }
  return statusSentence(xhr.status);
}

// --- Toasts ---------------------------------------------------------------------------------
function stack() {
  return document.getElementById("toasts");
}

function dismissButton() {
  const tpl = document.getElementById("toast-item");
  return tpl ? tpl.content.querySelector("[data-toast-dismiss]").cloneNode(true) : null;
}

// A toast leaves by itself after a while, but not while it is hovered or focused (someone is
// reading it or about to press Dismiss).
function schedule(el, ms) {
  clearTimeout(el._toastTimer);
  el._toastTimer = setTimeout(() => {
    if (el.matches(":hover, :focus-within")) schedule(el, ms);
    else el.remove();
  }, ms);
}

/** Show `message` in a toast; the same sentence already showing is refreshed, not repeated. */
export function showToast(message, level = "error") {
  const box = stack();
  const tpl = document.getElementById("toast-item");
  if (!box || !tpl) return null;
  const same = [...box.querySelectorAll(".toast")].find(
    (el) => el.dataset.level === level && el.querySelector(".toast-text")?.textContent === message,
  );
  if (same) {
    schedule(same, level === "error" ? ERROR_TOAST_MS : INFO_TOAST_MS);
    return same;
  }
  const el = tpl.content.firstElementChild.cloneNode(true);
  el.classList.add(`toast-${level}`);
  el.dataset.level = level;
  el.querySelector(".toast-text").textContent = message;
  box.appendChild(el);
  schedule(el, level === "error" ? ERROR_TOAST_MS : INFO_TOAST_MS);
  return el;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-toast-dismiss]");
  if (button) button.closest(".toast")?.remove();
});

// Toasts made elsewhere (the editor's, older pushes) get the same Dismiss button.
function equip(root) {
  for (const el of root.querySelectorAll(".toast")) {
    if (el.querySelector("[data-toast-dismiss]")) continue;
    const button = dismissButton();
    if (button) el.appendChild(button);
  }
}
const box = stack();
if (box) {
  equip(box);
  new MutationObserver(() => equip(box)).observe(box, { childList: true });
}

// --- htmx -----------------------------------------------------------------------------------
const ownsErrors = (elt) => Boolean(elt?.closest?.("[data-own-errors]"));

document.addEventListener("htmx:beforeSwap", (event) => {
  const { xhr } = event.detail;
  if (!xhr || xhr.status < 400) return;
  if (event.detail.shouldSwap) return; // a panel script opted this fragment in (rule 1)
  if (xhr.getResponseHeader("HX-Retarget") || xhr.getResponseHeader("HX-Reswap")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    return;
  }
  event.detail.shouldSwap = false;
});

// Fires only for error responses left unswapped (isError still true after beforeSwap).
document.addEventListener("htmx:responseError", (event) => {
  const { xhr, elt } = event.detail;
  if (!xhr || ownsErrors(elt)) return;
  const message = errorMessage(xhr);
  markStuckPlaceholder(event.detail.target, message);
  showToast(message);
});

document.addEventListener("htmx:sendError", (event) => {
  // Told everywhere, data-own-errors regions too: their scripts handle answers, not silence.
  markStuckPlaceholder(event.detail.target, NETWORK_MESSAGE);
  showToast(NETWORK_MESSAGE);
});

// A panel whose first load failed would say "Loading…" forever; say what happened instead.
function markStuckPlaceholder(target, message) {
  const placeholder = target?.querySelector?.(":scope > .panel-loading");
  if (!placeholder) return;
  placeholder.textContent = `${message} Reload the page to try again.`;
  placeholder.dataset.state = "failed";
}
