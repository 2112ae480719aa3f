// The portal's only script, loaded from our own origin: the Content-Security-Policy
// allows no inline script or on*= handler, so pages mark elements with data-* instead.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (a <noscript> button
  // does it without JavaScript).
  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.submit();
      });
    });
  }

  // Escalation form: show only the handoff-note fields the chosen level needs
  // (the server checks anyway).
  function handoffNoteFields() {
    var select = document.getElementById("id_to_level");
    if (!select) return;
    function update() {
      document.querySelectorAll(".note-field").forEach(function (box) {
        var area = box.querySelector("textarea");
        var levels = ((area && area.getAttribute("data-levels")) || "").split(" ");
        box.hidden = levels.indexOf(select.value) === -1;
      });
    }
    select.addEventListener("change", update);
    update();
  }

  function start() {
    autosubmit();
    handoffNoteFields();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
