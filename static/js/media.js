// Media panel behaviour: uploads with per-file progress, drag data for the timeline,
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
  return card;
}

function uploadOne(file, url) {
  const row = uploadRow(file);
  const maxMb = Number(panel()?.dataset.maxUploadMb || 0);
  if (file.size === 0) {
    finishRow(row, "error", "This file is empty (0 bytes).");
    return;
  }
  if (maxMb && file.size > maxMb * 1024 * 1024) {
    // Checked on the server too; this only saves sending gigabytes for nothing.
    finishRow(row, "error", `This file is too large: the limit is ${maxMb.toLocaleString()} MB.`);
    return;
  }
  const body = new FormData();
  body.append("file", file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", url);
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("HX-Request", "true");
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) setProgress(row, event.loaded / event.total);
  });
  xhr.addEventListener("load", () => {
    if (xhr.status === 201) {
      setProgress(row, 1);
      insertCard(xhr.responseText);
      finishRow(row, "done", "Uploaded — processing…");
      return;
    }
    let message = `Upload failed (HTTP ${xhr.status}).`;
    try {
      message = JSON.parse(xhr.responseText).error || message;
    } catch {
      /* not JSON: keep the generic message */
    }
    finishRow(row, "error", message);
  });
  xhr.addEventListener("error", () => finishRow(row, "error", "Network error: the upload did not finish."));
  xhr.addEventListener("abort", () => finishRow(row, "error", "Upload cancelled."));
  row.querySelector(".media-upload-dismiss").addEventListener("click", () => {
    if (row.dataset.state === "uploading") xhr.abort();
    row.remove();
  });
  xhr.send(body);
}

function uploadFiles(files) {
  const url = panel()?.dataset.uploadUrl;
  if (!url) return;
  for (const file of files) uploadOne(file, url);
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

export { insertCard, matchesFilters };
