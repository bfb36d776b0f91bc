// Live connection: shows the socket state in the header and asks every panel to
// re-sync its server state on each (re)connect, so pushes missed while offline are
// repaired. htmx's ws extension owns the socket and its reconnect backoff.
const indicator = () => document.getElementById("live-indicator");

function setState(state, text) {
  const el = indicator();
  if (!el) return;
  el.dataset.state = state;
  el.querySelector(".label").textContent = text;
}

let everOpened = false;

document.body.addEventListener("htmx:wsOpen", () => {
  setState("connected", "Live");
  if (everOpened) {
    document.body.dispatchEvent(new CustomEvent("live:resync", { bubbles: true }));
  }
  everOpened = true;
});

document.body.addEventListener("htmx:wsClose", () => setState("reconnecting", "Reconnecting…"));
document.body.addEventListener("htmx:wsError", () => setState("reconnecting", "Reconnecting…"));

// Fragments pushed for a new item are marked data-live-new; highlight them briefly.
document.body.addEventListener("htmx:oobAfterSwap", (event) => {
  const target = event.detail && event.detail.target;
  if (!target || !target.querySelectorAll) return;
  const fresh = target.matches && target.matches("[data-live-new]") ? [target] : [];
  fresh.push(...target.querySelectorAll("[data-live-new]"));
  for (const el of fresh) {
    el.classList.add("flash");
    el.removeAttribute("data-live-new");
    setTimeout(() => el.classList.remove("flash"), 2500);
  }
});

export { setState };

// Toasts leave by themselves after a while.
document.body.addEventListener("htmx:oobAfterSwap", (event) => {
  const target = event.detail && event.detail.target;
  if (!target || target.id !== "toasts") return;
  const last = target.lastElementChild;
  if (last) setTimeout(() => last.remove(), 6000);
});
