// Tokendesk: dialogs, copy to clipboard. Everything here is an enhancement; each action
// also works as a plain link or form without JavaScript.
(function () {
  "use strict";

  function openAsModal(dialog) {
    // Server-rendered dialogs arrive with `open` (so they show without JS); reopen them
    // as modals for focus trapping, Escape to close and an inert page behind.
    if (dialog.open) dialog.close();
    dialog.showModal();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#dialog-slot dialog[open]").forEach(openAsModal);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "dialog-slot") return;
    var dialog = event.detail.target.querySelector("dialog");
    if (dialog) openAsModal(dialog);
  });

  // A closed dialog leaves the DOM, so a token shown once is not kept in the page.
  // `close` is dispatched asynchronously: the one queued by openAsModal's close() arrives
  // after showModal() reopened the dialog, so only remove a dialog that is still closed.
  document.addEventListener(
    "close",
    function (event) {
      var dialog = event.target;
      if (dialog.matches && dialog.matches("dialog[data-remove-on-close]") && !dialog.open) {
        dialog.remove();
      }
    },
    true
  );

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) {
        event.preventDefault();
        dialog.close();
      }
      return;
    }
    var copier = event.target.closest("[data-copy-target]");
    if (copier) copyFrom(copier);
  });

  // CI token dialog: choosing the Custom role opens the permission list it needs.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[name=role]") || !select.form) return;
    var details = select.form.querySelector("details.custom-permissions");
    if (details && select.value === "custom") details.open = true;
  });

  // A refused role change (e.g. the last owner) must not leave the select showing the role
  // that was refused: reset it to the saved one (the server-rendered `selected`).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches("form.inline-role") && event.detail.xhr.status >= 400) {
      form.reset();
    }
  });

  // A security key that refused or timed out (allauth's WebAuthn script reports it): say so
  // next to the page's messages instead of only in the console.
  document.addEventListener("allauth.error", function (event) {
    var messages = document.getElementById("messages");
    if (!messages) return;
    event.preventDefault();
    var note = document.createElement("p");
    note.className = "flash flash-error";
    note.setAttribute("role", "alert");
    note.textContent = "The security key did not answer. Try again, or use another way to sign in.";
    messages.replaceChildren(note);
  });

  function copyFrom(button) {
    var field = document.getElementById(button.dataset.copyTarget);
    if (!field) return;
    var done = function () {
      button.textContent = "Copied!";
      button.setAttribute("aria-live", "polite");
      setTimeout(function () { button.textContent = "Copy to clipboard"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { legacyCopy(field, done); });
    } else {
      legacyCopy(field, done);
    }
  }

  // Plain-HTTP deployments have no async clipboard API.
  function legacyCopy(field, done) {
    field.select();
    if (document.execCommand("copy")) done();
  }
})();
