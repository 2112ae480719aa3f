// The portal's only script, loaded from our own origin. Progressive enhancement
// only: every page works without it. The Content-Security-Policy allows no inline
// script or on*= handler, so pages mark elements with data-* attributes instead.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (a <noscript>
  // button does it without JavaScript).
  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.submit();
      });
    });
  }

  // A form came back with errors: bring its summary into view and move focus to it,
  // so the person (and a screen reader) starts from the list of what to fix.
  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    var details = summary.closest("details");
    if (details) details.open = true;
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }

  // The escalate form: show only the handoff fields the chosen level needs
  // (the server checks the chosen level's list anyway).
  function noteFieldsFollowLevel() {
    var form = document.getElementById("action-escalate");
    if (!form) return;
    var select = form.querySelector("select[name=to_level]");
    if (!select) return;
    function update() {
      form.querySelectorAll(".note-field").forEach(function (box) {
        var area = box.querySelector("[data-levels]");
        var levels = ((area && area.getAttribute("data-levels")) || "").split(" ");
        box.hidden = levels.indexOf(select.value) === -1 && !box.querySelector(".errorlist");
      });
    }
    select.addEventListener("change", update);
    update();
  }

  // A link to a field inside a closed disclosure opens it first.
  function openDisclosureOnHash() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var target = document.getElementById(link.getAttribute("href").slice(1));
      var details = target && target.closest("details");
      if (details) details.open = true;
    });
  }

  // <button data-copy="ID" hidden>: copies the value of the field ID (a calendar feed
  // URL); shown only where the script runs. <input data-select-all>: a click selects it all.
  function copyButtons() {
    document.querySelectorAll("input[data-select-all]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        function done() { button.textContent = "Copied"; }
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            if (document.execCommand("copy")) done();
          });
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    });
  }

  function start() {
    copyButtons();
    autosubmit();
    focusErrorSummary();
    noteFieldsFollowLevel();
    openDisclosureOnHash();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
