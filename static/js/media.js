// Media panel behaviour: chunked, resumable uploads with per-file progress, drag data for the timeline,
// hover-scrub through filmstrips, and guards for live card inserts. All listeners are
// delegated on document, so they survive the panel being re-rendered; a module runs once.

const MEDIA_TYPE = "application/x-cutroom-media";

const panel = () => document.getElementById("media-panel");
const grid = () => document.getElementById("media-grid");

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

// ---- uploads --------------------------------------------------------------------------

function uploadRow(file) {
  const template = document.getElementById("media-upload-row");
  const list = document.getElementById("media-uploads");
  const row = template.content.firstElementChild.cloneNode(true);
  row.querySelector(".media-upload-name").textContent = file.name;
  list.prepend(row);
  return row;
}

function setProgress(row, fraction) {
  const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  const bar = row.querySelector(".progress");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.firstElementChild.style.width = `${pct}%`;
}

function finishRow(row, state, message) {
  row.dataset.state = state;
  const status = row.querySelector(".media-upload-status");
  status.textContent = message;
  if (state === "error") {
    status.setAttribute("role", "alert");
  } else {
    // Success: the card is in the grid now; the row can go.
    setTimeout(() => row.remove(), 1500);
  }
}

function insertCard(html) {
  const target = grid();
  if (!target) return null;
  const holder = document.createElement("template");
  holder.innerHTML = html.trim();
  const card = holder.content.querySelector(".media-card");
  if (!card) return null;
  // The live push may have inserted (or already updated) this card: never duplicate it,
  // never overwrite a newer state with the upload response's "processing".
  if (document.getElementById(card.id)) return document.getElementById(card.id);
  target.prepend(card);
  window.htmx?.process(card);
  card.classList.add("flash");
  card.removeAttribute("data-live-new");
  setTimeout(() => card.classList.remove("flash"), 2500);
  refreshIfProcessing(card);
  return card;
}

// A file can finish processing before its upload's answer reaches this tab; the "ready"
// push then found no card to update and was dropped. So a card inserted as "processing"
// asks for its current state once; any later change still arrives as a push.
function refreshIfProcessing(card) {
  const id = /^media-(\d+)$/.exec(card.id)?.[1];
  if (!id || card.dataset.status !== "processing" || !window.htmx) return;
  window.htmx.ajax("GET", `/media/${id}/card/`, { target: `#${card.id}`, swap: "outerHTML" });
}

// ---- chunked, resumable uploads (docs/uploads.md) -----------------------------------------
// Every file goes in chunks of the size the server names (a small file is one chunk), so a
// dropped connection or a reload never costs more than the chunk in flight. The progress
// bar shows bytes the server acknowledged plus the current chunk's sent bytes.

const RESUME_KEY = "cutroom.uploads.v1";
const RESUME_MAX_AGE_MS = 24 * 3600 * 1000;
const MAX_RETRIES = 8;

const fingerprint = (file) => `${file.name}|${file.size}|${file.lastModified}`;

function resumeTable() {
  try {
    const table = JSON.parse(localStorage.getItem(RESUME_KEY) || "{}");
    const now = Date.now();
    for (const [key, entry] of Object.entries(table)) {
      if (!entry?.url || now - (entry.at || 0) > RESUME_MAX_AGE_MS) delete table[key];
    }
    return table;
  } catch {
    return {};
  }
}

function remember(file, url) {
  try {
    const table = resumeTable();
    table[fingerprint(file)] = { url, at: Date.now() };
    localStorage.setItem(RESUME_KEY, JSON.stringify(table));
  } catch {
    /* private mode or full storage: the upload still works, it just cannot resume */
  }
}

function forget(file) {
  try {
    const table = resumeTable();
    delete table[fingerprint(file)];
    localStorage.setItem(RESUME_KEY, JSON.stringify(table));
  } catch {
    /* nothing stored */
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt) => Math.min(30_000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);

class UploadFailed extends Error {}

function errorMessage(xhr, fallback) {
  try {
    return JSON.parse(xhr.responseText).error || fallback;
  } catch {
    return fallback;
  }
}

// One request; resolves with the finished xhr (any status), rejects only on a network
// error or an abort. `onProgress` gets the bytes of the body sent so far and its total.
function send(state, method, url, { body = null, headers = {}, onProgress = null } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    state.xhr = xhr;
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("HX-Request", "true");
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.total));
    }
    xhr.addEventListener("load", () => resolve(xhr));
    xhr.addEventListener("error", () => reject(new Error("network")));
    xhr.addEventListener("abort", () => reject(new Error("abort")));
    xhr.addEventListener("timeout", () => reject(new Error("network")));
    xhr.send(body);
  });
}

const storedOffset = (xhr) => {
  const value = xhr.getResponseHeader("Upload-Offset");
  return value === null ? null : Number(value);
};

// Where a known upload stands: {offset, chunk, status, cardUrl} or null if it is gone.
async function sessionState(state, url) {
  const xhr = await send(state, "GET", url, { headers: { Accept: "application/json" } });
  if (xhr.status >= 500) throw new Error("network"); // unknown: ask again later
  if (xhr.status !== 200) return null;
  const data = JSON.parse(xhr.responseText);
  return { offset: data.offset, chunk: data.chunk_size, status: data.status, cardUrl: data.card_url };
}

async function openSession(state, file, sessionsUrl) {
  const previous = resumeTable()[fingerprint(file)];
  if (previous) {
    // A network error here propagates: the caller retries rather than start over.
    const known = await sessionState(state, previous.url);
    if (known && (known.status === "open" || known.status === "done")) {
      return { url: previous.url, ...known, resumed: known.offset > 0 };
    }
    forget(file); // expired, cancelled or refused: a new upload
  }
  const xhr = await send(state, "POST", sessionsUrl, {
    body: JSON.stringify({ filename: file.name, size: file.size, type: file.type || "" }),
    headers: { "Content-Type": "application/json", Accept: "application/json" },
  });
  if (xhr.status !== 201) {
    throw new UploadFailed(errorMessage(xhr, `Upload failed (HTTP ${xhr.status}).`));
  }
  const data = JSON.parse(xhr.responseText);
  remember(file, data.url);
  return { url: data.url, offset: data.offset, chunk: data.chunk_size, status: data.status };
}

async function fetchCard(state, cardUrl) {
  const xhr = await send(state, "GET", cardUrl);
  if (xhr.status === 200) insertCard(xhr.responseText);
}

async function uploadChunked(file, sessionsUrl, row) {
  const state = { cancelled: false, xhr: null, url: null };
  const status = row.querySelector(".media-upload-status");
  const dismiss = row.querySelector(".media-upload-dismiss");
  dismiss.setAttribute("aria-label", "Cancel upload");
  dismiss.addEventListener("click", () => {
    if (row.dataset.state !== "uploading") {
      row.remove();
      return;
    }
    state.cancelled = true;
    state.xhr?.abort();
    forget(file);
    if (state.url) send({}, "DELETE", state.url).catch(() => {});
    row.remove();
  });

  const done = (message) => {
    setProgress(row, 1);
    forget(file);
    dismiss.setAttribute("aria-label", "Dismiss");
    finishRow(row, "done", message);
  };

  let session;
  let attempt = 0;
  for (;;) {
    try {
      session = await openSession(state, file, sessionsUrl);
      break;
    } catch (error) {
      if (state.cancelled) return;
      if (error instanceof UploadFailed || attempt >= MAX_RETRIES) {
        finishRow(row, "error", error instanceof UploadFailed ? error.message : "Network error: the upload did not start.");
        return;
      }
      status.textContent = "Connection lost — retrying…";
      await sleep(backoff(attempt++));
    }
  }
  state.url = session.url;
  let offset = session.offset;
  const chunk = Math.max(1, session.chunk || 8 * 1024 * 1024);
  if (session.resumed) status.textContent = `Resuming from ${Math.round((offset / file.size) * 100)}%…`;
  setProgress(row, offset / file.size);
  if (session.status === "done") {
    if (session.cardUrl) await fetchCard(state, session.cardUrl).catch(() => {});
    done("Uploaded — processing…");
    return;
  }

  attempt = 0;
  while (!state.cancelled) {
    const end = Math.min(offset + chunk, file.size);
    const start = offset;
    let xhr;
    try {
      xhr = await send(state, "PATCH", state.url, {
        body: file.slice(start, end),
        headers: { "Upload-Offset": String(start), "Content-Type": "application/offset+octet-stream" },
        onProgress: (sent) => setProgress(row, (start + Math.min(sent, end - start)) / file.size),
      });
    } catch {
      xhr = null; // network error: handled with the 5xx below
    }
    if (state.cancelled) return;
    if (xhr && xhr.status === 201) {
      insertCard(xhr.responseText);
      done("Uploaded — processing…");
      return;
    }
    if (xhr && xhr.status === 204) {
      offset = storedOffset(xhr) ?? end;
      attempt = 0;
      status.textContent = "";
      setProgress(row, offset / file.size);
      continue;
    }
    if (xhr && xhr.status === 409 && storedOffset(xhr) !== null) {
      // The server has a different offset (a lost response, another tab): go on from it.
      offset = storedOffset(xhr);
      setProgress(row, offset / file.size);
      if (offset >= file.size) {
        const known = await sessionState(state, state.url).catch(() => null);
        if (known?.cardUrl) await fetchCard(state, known.cardUrl).catch(() => {});
        if (known?.status === "done") return done("Uploaded — processing…");
      }
      if (attempt++ >= MAX_RETRIES) break;
      await sleep(backoff(0));
      continue;
    }
    if (xhr && xhr.status < 500 && xhr.status !== 0) {
      forget(file);
      finishRow(row, "error", errorMessage(xhr, `Upload failed (HTTP ${xhr.status}).`));
      return;
    }
    // A network error or a 5xx: wait, ask the server what it has (HEAD), resume there.
    if (attempt >= MAX_RETRIES) break;
    status.textContent = "Connection lost — retrying…";
    await sleep(backoff(attempt++));
    if (state.cancelled) return;
    try {
      const head = await send(state, "HEAD", state.url);
      if (head.status === 200 && storedOffset(head) !== null) {
        offset = storedOffset(head);
        setProgress(row, offset / file.size);
      } else if (head.status >= 400 && head.status < 500) {
        forget(file);
        finishRow(row, "error", "This upload expired or was cancelled: please upload the file again.");
        return;
      }
    } catch {
      /* still offline: the next attempt asks again */
    }
  }
  if (!state.cancelled) {
    finishRow(
      row,
      "error",
      `Network error: the upload stopped at ${Math.round((offset / file.size) * 100)}%. Choose the same file again to resume.`,
    );
  }
}

// The single-request form (small files; used only when the panel names no chunked route):
// the same request helper and progress bar as a chunk, one POST of the whole file.
async function uploadOne(file, url, row) {
  const state = { xhr: null };
  row.querySelector(".media-upload-dismiss").addEventListener("click", () => {
    if (row.dataset.state === "uploading") state.xhr?.abort();
    row.remove();
  });
  const body = new FormData();
  body.append("file", file, file.name);
  let xhr;
  try {
    xhr = await send(state, "POST", url, {
      body,
      onProgress: (sent, total) => setProgress(row, total ? sent / total : 0),
    });
  } catch (error) {
    finishRow(row, "error", error.message === "abort" ? "Upload cancelled." : "Network error: the upload did not finish.");
    return;
  }
  if (xhr.status === 201) {
    setProgress(row, 1);
    insertCard(xhr.responseText);
    finishRow(row, "done", "Uploaded — processing…");
    return;
  }
  finishRow(row, "error", errorMessage(xhr, `Upload failed (HTTP ${xhr.status}).`));
}

function uploadFile(file) {
  const sessionsUrl = panel()?.dataset.uploadSessionsUrl;
  const singleUrl = panel()?.dataset.uploadUrl;
  if (!sessionsUrl && !singleUrl) return;
  const row = uploadRow(file);
  // Checked on the server too; this only saves sending gigabytes for nothing.
  const maxMb = Number(panel()?.dataset.maxUploadMb || 0);
  if (file.size === 0) {
    finishRow(row, "error", "This file is empty (0 bytes).");
    return;
  }
  if (maxMb && file.size > maxMb * 1024 * 1024) {
    finishRow(row, "error", `This file is too large: the limit is ${maxMb.toLocaleString()} MB.`);
    return;
  }
  const upload = sessionsUrl ? uploadChunked(file, sessionsUrl, row) : uploadOne(file, singleUrl, row);
  upload.catch(() => {
    if (row.dataset.state === "uploading") finishRow(row, "error", "The upload did not finish.");
  });
}

function uploadFiles(files) {
  for (const file of files) uploadFile(file);
}

document.addEventListener("change", (event) => {
  const input = event.target;
  if (input.id !== "media-upload-input" || !input.files?.length) return;
  uploadFiles([...input.files]);
  input.value = "";
});

const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");

document.addEventListener("dragover", (event) => {
  const root = event.target.closest?.("#media-panel");
  if (!root || !carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
  root.classList.add("is-dropping");
});

document.addEventListener("dragleave", (event) => {
  const root = event.target.closest?.("#media-panel");
  if (root && !root.contains(event.relatedTarget)) root.classList.remove("is-dropping");
});

document.addEventListener("drop", (event) => {
  const root = event.target.closest?.("#media-panel");
  if (!root || !carriesFiles(event)) return;
  event.preventDefault();
  root.classList.remove("is-dropping");
  uploadFiles([...event.dataTransfer.files]);
});

// ---- drag to the timeline ----------------------------------------------------------------

document.addEventListener("dragstart", (event) => {
  const card = event.target.closest?.(".media-card");
  if (!card || !card.dataset.mediaId) return;
  event.dataTransfer.setData(MEDIA_TYPE, card.dataset.mediaId);
  event.dataTransfer.setData("text/plain", `media:${card.dataset.mediaId}`);
  event.dataTransfer.effectAllowed = "copy";
  const poster = card.querySelector(".media-poster");
  if (poster) event.dataTransfer.setDragImage(poster, 20, 20);
});

// ---- hover scrub -------------------------------------------------------------------------

document.addEventListener("mousemove", (event) => {
  const thumb = event.target.closest?.(".media-thumb");
  const card = thumb?.closest(".media-card");
  if (!card?.dataset.filmstrip) return;
  const frames = Number(card.dataset.filmstripFrames || 0);
  if (frames < 2) return;
  const scrub = thumb.querySelector(".media-scrub");
  const rect = thumb.getBoundingClientRect();
  const x = Math.min(0.999, Math.max(0, (event.clientX - rect.left) / rect.width));
  const index = Math.floor(x * frames);
  if (!scrub.style.backgroundImage) {
    scrub.style.backgroundImage = `url("${card.dataset.filmstrip}")`;
    scrub.style.backgroundSize = `${frames * 100}% 100%`;
  }
  scrub.style.backgroundPosition = `${(index / (frames - 1)) * 100}% 0`;
  scrub.style.setProperty("--scrub", `${x * 100}%`);
  thumb.classList.add("is-scrubbing");
});

document.addEventListener(
  "mouseleave",
  (event) => {
    if (event.target.classList?.contains("media-thumb")) event.target.classList.remove("is-scrubbing");
  },
  true,
);

// ---- drawer and menus ----------------------------------------------------------------------

document.addEventListener("click", (event) => {
  if (event.target.closest?.("[data-media-close]")) {
    const drawer = document.getElementById("media-drawer");
    if (drawer) drawer.replaceChildren();
    return;
  }
  const item = event.target.closest?.(".media-menu .menu > *");
  if (item) item.closest("details").open = false;
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const drawer = document.getElementById("media-drawer");
  if (drawer?.childElementCount) drawer.replaceChildren();
});

// ---- live inserts ------------------------------------------------------------------------

function matchesFilters(card) {
  const form = document.getElementById("media-filters");
  if (!form) return true;
  const data = new FormData(form);
  const kind = data.get("kind");
  const source = data.get("source");
  const q = String(data.get("q") || "").trim().toLowerCase();
  if (kind && card.dataset.kind !== kind) return false;
  if (source && card.dataset.source !== source) return false;
  if (q && !(card.dataset.search || "").includes(q)) return false;
  return true;
}

// A pushed new card is dropped if this tab already shows it (its own upload response came
// first) or if it does not match the filters this tab is looking at.
document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
  const { target, fragment } = event.detail || {};
  if (!target || target.id !== "media-grid" || !fragment) return;
  for (const card of [...fragment.querySelectorAll(".media-card")]) {
    if (document.getElementById(card.id) || !matchesFilters(card)) card.remove();
  }
  if (!fragment.querySelector(".media-card")) event.detail.shouldSwap = false;
});
