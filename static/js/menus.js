// Disclosure menus (<details class="user-menu">) close like menus do elsewhere: on a click
// outside them and on Escape (which gives focus back to the menu's button).
const MENUS = "details.user-menu";

document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll(`${MENUS}[open]`)) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll(`${MENUS}[open]`)) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});
