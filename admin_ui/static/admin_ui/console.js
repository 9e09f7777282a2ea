// Small progressive enhancements; every page works without JavaScript.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms with data-confirm ask once more before a destructive POST (e.g. retiring a device).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  // The print view's 「印刷」 button opens the browser's print dialog (no inline script: the CSP forbids it).
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  // Put the keyboard focus on the first field with an error, so screen readers announce it.
  const invalid = document.querySelector(".field__error");
  if (invalid) {
    const field = invalid.closest(".field");
    const input = field && field.querySelector("input, select, textarea");
    if (input) input.focus();
  }
});
