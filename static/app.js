// Tokendesk: dialogs, copy to clipboard. Everything here is an enhancement; each action
// also works as a plain link or form without JavaScript.
(function () {
  "use strict";

  function openAsModal(dialog) {
    // Server-rendered dialogs arrive with `open` (so they show without JS); reopen them
    // as modals for focus trapping, Escape to close and an inert page behind.
    // htmx wires a swapped form only when the swap settles (20 ms on): wire it now, so a
    // quick Enter on its button posts through htmx, not as a plain form submission.
    if (window.htmx) window.htmx.process(dialog);
    if (dialog.open) dialog.close();
    dialog.showModal();
    showFirstError(dialog);
  }

  // htmx focuses an `autofocus` field when the swap settles: show the error after that.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target.id !== "dialog-slot") return;
    var dialog = event.detail.target.querySelector("dialog[open]");
    if (dialog) showFirstError(dialog);
  });

  // A dialog answered again with an error (422): the first error is scrolled into view and its
  // field focused, so it is not left below the fold while the focus stays on the first field.
  function showFirstError(dialog) {
    var error = dialog.querySelector(".field-error, .flash-error");
    if (!error) return;
    var group = error.closest("fieldset");
    var field = group ? group.querySelector("input, select, textarea")
      : dialog.querySelector("[aria-invalid=true]");
    if (field) field.focus({ preventScroll: true });
    error.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#dialog-slot dialog[open]").forEach(openAsModal);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "dialog-slot") return;
    var dialog = event.detail.target.querySelector("dialog");
    if (dialog) {
      openedBy(event);
      openAsModal(dialog);
    } else {
      // A form in the dialog answered with no dialog (done: the change is made): focus goes
      // back where the dialog was opened from.
      restoreFocus();
    }
  });

  // Focus returns to the control that opened a dialog when the dialog closes, as the show-once
  // dialog does. The opener may be gone by then (its row was revoked and the table reloaded):
  // then the next row's first action, else the previous row's, else the table's heading.
  var opener = null;

  // Every request from the page (not from a dialog) may open one: its answer may be sent to
  // the dialog slot by the server (HX-Retarget). Described before anything is swapped, and
  // kept on the requesting element (other requests may start before this one's answer).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.closest || elt.closest("#dialog-slot")) return;
    // A form's opener is the control that submitted it (focused), not the form.
    var active = document.activeElement;
    elt.tokendeskOpener = describe(active && active !== elt && elt.contains(active) ? active : elt);
  });

  function openedBy(event) {
    var config = event.detail.requestConfig;
    if (config && config.elt && config.elt.tokendeskOpener) opener = config.elt.tokendeskOpener;
  }

  function describe(elt) {
    var row = elt.closest("tr[id]");
    var frame = elt.closest("[id]:not(tr)");
    var following = [];
    var preceding = [];
    if (row) {
      for (var next = row.nextElementSibling; next; next = next.nextElementSibling) {
        if (next.id) following.push(next.id);
      }
      for (var previous = row.previousElementSibling; previous; previous = previous.previousElementSibling) {
        if (previous.id) preceding.push(previous.id);
      }
    }
    return {
      element: elt,
      name: nameOf(elt),
      rowId: row ? row.id : "",
      frameId: frame ? frame.id : "",
      following: following,
      preceding: preceding,
      heading: headingBefore(elt),
      pending: false,
    };
  }

  function nameOf(elt) {
    return (elt.getAttribute("aria-label") || elt.textContent || "").trim();
  }

  function usable(elt) {
    return elt && elt.isConnected && !elt.closest("[inert]") && elt.getClientRects().length > 0;
  }

  var CONTROLS = "a[href], button:not([disabled]), input:not([type=hidden]), select, textarea, summary";

  function sameControl(scope) {
    if (!scope) return null;
    var controls = scope.querySelectorAll(CONTROLS);
    for (var i = 0; i < controls.length; i++) {
      if (nameOf(controls[i]) === opener.name && usable(controls[i])) return controls[i];
    }
    return null;
  }

  function firstAction(row) {
    if (!row) return null;
    var controls = row.querySelectorAll(CONTROLS);
    var found = null;
    for (var i = 0; i < controls.length; i++) {
      if (!usable(controls[i])) continue;
      if (controls[i].closest("td.actions")) return controls[i];
      found = found || controls[i];
    }
    return found;
  }

  function headingBefore(elt) {
    var section = elt.closest("section, article, main") || document.querySelector("main");
    return section ? section.querySelector("h1, h2") : null;
  }

  function focusTarget() {
    if (usable(opener.element)) return opener.element;
    // The same control, rendered again (a region reloaded behind the dialog).
    var again = opener.element.id ? document.getElementById(opener.element.id) : null;
    if (usable(again)) return again;
    var row = opener.rowId ? document.getElementById(opener.rowId) : null;
    var found = sameControl(row);
    if (found) return found;
    if (!row) {
      var ids = opener.following.concat(opener.preceding);
      for (var i = 0; i < ids.length; i++) {
        found = firstAction(document.getElementById(ids[i]));
        if (found) return found;
      }
    }
    if (!opener.rowId) {
      found = sameControl(opener.frameId ? document.getElementById(opener.frameId) : null);
      if (found) return found;
    }
    var heading = usable(opener.heading) ? opener.heading : headingBefore(document.querySelector("main") || document.body);
    if (heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    return heading;
  }

  function restoreFocus() {
    if (!opener || document.querySelector("#dialog-slot dialog[open]")) return;
    opener.pending = true;
    var target = focusTarget();
    if (target) target.focus();
    opener.checks = 0;
    scheduleCheck(opener);
  }

  // The table reloads after the change on its own schedule (an event, then a request): until
  // it has, look again now and then, and move the focus on if it fell to the page or to the
  // heading while the successor row was not there yet.
  function scheduleCheck(watched) {
    setTimeout(function () {
      if (opener !== watched || !opener.pending || document.querySelector("#dialog-slot dialog[open]")) return;
      var active = document.activeElement;
      var lost = !active || active === document.body || !active.isConnected || active.matches("h1, h2");
      if (lost) {
        var target = focusTarget();
        if (target && target !== active) target.focus();
      }
      if (++watched.checks < 20) scheduleCheck(watched);
    }, 150);
  }

  // A table reloaded after the change replaces the control just focused: focus its successor.
  document.addEventListener("htmx:afterSettle", function () {
    if (!opener || !opener.pending) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    restoreFocus();
  });

  // Once the person moves on (focuses something else), the opener is forgotten.
  document.addEventListener("focusin", function (event) {
    if (!opener || !opener.pending) return;
    if (event.target.closest && event.target.closest("#dialog-slot")) return;
    if (event.target === opener.element || nameOf(event.target) === opener.name) return;
    if (opener.rowId && event.target.closest("tr[id]")) return;
    if (event.target.matches && event.target.matches("h1, h2")) return;
    opener = null;
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
        restoreFocus();
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
