// The storyboard dialog (editor/partials/storyboard_dialog.html): opened by the ✦ Storyboard
// button under the tracks. The server parses a pasted script, prices every shot and the total
// (storyboard/quote/, re-asked after each change so the cost shown is the one Generate all
// checks), and starts them all as one request (storyboard/start/). Document-level listeners
// only: no hooks in the timeline modules.
import { editorEl, refetch, toast } from "./timeline-core.js";
import { syncLengths } from "./timeline-slots.js";

const base = () => editorEl()?.dataset.baseUrl || null;
const dialogEl = () => document.getElementById("storyboard-dialog");

function csrf() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (_) {
    return "";
  }
}

async function send(path, body) {
  const res = await fetch(`${base()}${path}`, {
    method: body ? "POST" : "GET",
    body,
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(res.status === 403 ? "Your session expired; reload the page." : text);
  return text;
}

function parse(html, selector) {
  const tpl = document.createElement("template");
  tpl.innerHTML = html.trim();
  return tpl.content.querySelector(selector);
}

function showError(message) {
  const box = dialogEl()?.querySelector("[data-storyboard-error]");
  if (box) box.textContent = message || "";
}

async function open(html) {
  const next = parse(html, "dialog");
  if (!next) return;
  const current = dialogEl();
  if (current?.open) {
    current.replaceWith(next);
  } else {
    current?.remove();
    document.body.appendChild(next);
  }
  for (const scope of next.querySelectorAll(".sb-script-fields, [data-storyboard-shot]")) syncShotLengths(scope);
  if (!next.open) next.showModal();
}

// A shot's length choices follow its model; its price basis is the option's title.
function syncShotLengths(scope) {
  const option = syncLengths(scope);
  if (!option) return;
  scope.querySelector("[data-slot-model]").title = option.dataset.price ? `Cost: ${option.dataset.price}` : "";
}

function renumber(dialog) {
  dialog.querySelectorAll("[data-shot-number]").forEach((el, i) => (el.textContent = String(i + 1)));
}

// Only the shot rows (and `extra`) are sent: the pasted script is split on request.
function rowsBody(dialog, extra = {}) {
  const body = new URLSearchParams();
  for (const shot of dialog.querySelectorAll("[data-storyboard-list] [data-storyboard-shot]")) {
    for (const name of ["prompt", "model", "duration", "image_id"]) body.append(name, shot.querySelector(`[name=${name}]`)?.value || "");
  }
  if (dialog.querySelector("[data-storyboard-chain]")?.checked) body.append("chain", "1");
  for (const [k, v] of Object.entries(extra)) body.append(k, v);
  return body;
}

async function requote(body) {
  const dialog = dialogEl();
  if (!dialog) return;
  try {
    const fresh = parse(await send("storyboard/quote/", body || rowsBody(dialog)), "[data-storyboard-shots]");
    const list = dialog.querySelector("[data-storyboard-shots]");
    if (fresh && list) {
      list.replaceWith(fresh);
      for (const shot of fresh.querySelectorAll("[data-storyboard-shot]")) syncShotLengths(shot);
    }
    showError("");
  } catch (err) {
    showError(err.message);
  }
}

let timer = null;
const requoteSoon = () => {
  clearTimeout(timer);
  timer = setTimeout(() => requote(), 500);
};

document.addEventListener("click", async (event) => {
  const t = event.target;
  if (t.closest?.("[data-storyboard-open]")) {
    if (!base()) return;
    try {
      await open(await send("storyboard/"));
    } catch (err) {
      toast(err.message || "Could not open the storyboard.");
    }
    return;
  }
  const dialog = t.closest?.("#storyboard-dialog");
  if (!dialog) return;
  if (t.closest("[data-storyboard-close]")) {
    dialog.close();
  } else if (t.closest("[data-storyboard-split]")) {
    const form = dialog.querySelector("form");
    const script = form.elements.script.value;
    if (!script.trim()) return showError("Paste a script first: one shot per paragraph.");
    await requote(new URLSearchParams({ split: "1", script, default_model: form.elements.default_model.value, default_duration: form.elements.default_duration.value }));
    dialog.querySelector(".sb-script")?.removeAttribute("open");
  } else if (t.closest("[data-storyboard-add]")) {
    const row = dialog.querySelector("template[data-storyboard-row]")?.content.firstElementChild?.cloneNode(true);
    const list = dialog.querySelector("[data-storyboard-list]");
    if (!row || !list) return;
    list.querySelector("[data-storyboard-empty]")?.remove();
    const li = document.createElement("li");
    li.append(row);
    list.append(li);
    syncShotLengths(row);
    renumber(dialog);
    row.querySelector("textarea")?.focus();
  } else if (t.closest("[data-storyboard-remove]")) {
    t.closest("li")?.remove();
    renumber(dialog);
    requoteSoon();
  } else if (t.closest("[data-storyboard-action], [data-shot-regenerate]")) {
    const btn = t.closest("button");
    const board = btn.closest("[data-storyboard-id]")?.dataset.storyboardId;
    const path = btn.dataset.shotRegenerate ? `storyboards/${board}/shots/${btn.dataset.shotRegenerate}/regenerate/` : `storyboards/${board}/${btn.dataset.storyboardAction}/`;
    btn.disabled = true;
    try {
      const fresh = parse(await send(path, new URLSearchParams()), ".sb-boards");
      const old = dialog.querySelector(".sb-boards");
      if (fresh && old) old.replaceWith(fresh);
      await refetch();
    } catch (err) {
      showError(err.message);
      btn.disabled = false;
    }
  }
});

document.addEventListener("change", (event) => {
  const dialog = event.target.closest?.("#storyboard-dialog");
  if (!dialog) return;
  if (event.target.matches("[data-slot-model]")) syncShotLengths(event.target.closest(".sb-script-fields, [data-storyboard-shot]"));
  if (event.target.closest("[data-storyboard-list]") || event.target.matches("[data-storyboard-chain]")) requoteSoon();
});

document.addEventListener("input", (event) => {
  if (event.target.closest?.("#storyboard-dialog [data-storyboard-list] textarea")) requoteSoon();
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest?.("[data-storyboard-form]");
  if (!form) return;
  event.preventDefault();
  const dialog = form.closest("dialog");
  const submit = form.querySelector("[data-storyboard-generate]");
  submit.disabled = true;
  try {
    // A pasted script not yet split is read as it is (the server splits it the same way).
    const script = form.elements.script?.value || "";
    const split = !dialog.querySelector("[data-storyboard-list] [data-storyboard-shot]") && script.trim();
    const body = split ? rowsBody(dialog, { split: "1", script, default_model: form.elements.default_model.value, default_duration: form.elements.default_duration.value }) : rowsBody(dialog);
    await send("storyboard/start/", body);
    dialog.close();
    toast("Generating all shots — each clip lands in its slot on the new track.", "success");
    await refetch();
  } catch (err) {
    showError(err.message);
  } finally {
    submit.disabled = false;
  }
});
