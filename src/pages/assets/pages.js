// Progressive enhancement for the hosted pages; every page works without it. Served as a file
// with the page's CSP nonce: no inline script anywhere.
/* global document, window */
(function () {
  "use strict";

  // "Send a new code": the server renders the remaining cooldown; count it down and enable the
  // button at zero, announcing that once (not every second) to screen readers.
  var status = document.getElementById("resend-status");
  var button = document.getElementById("resend-button");
  var live = document.getElementById("resend-live");
  if (status && button) {
    var seconds = Number(status.getAttribute("data-resend-seconds")) || 0;
    var template = status.getAttribute("data-template") || "";
    var ready = status.getAttribute("data-ready") || "";
    var deadline = Date.now() + seconds * 1000;
    var tick = function () {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        status.textContent = ready;
        if (button.disabled) {
          button.disabled = false;
          if (live) live.textContent = ready;
        }
        return;
      }
      status.textContent = template.replace("{seconds}", String(left));
      window.setTimeout(tick, 250);
    };
    if (seconds > 0) tick();
  }

  // The code field: a pasted code may carry spaces or dashes ("123 456"); keep the digits, and
  // send the form when the pasted code is complete.
  var code = document.getElementById("code");
  if (code) {
    var length = Number(code.getAttribute("data-length")) || 0;
    var digitsOnly = function (text) {
      return String(text || "").replace(/[^0-9]/g, "");
    };
    code.addEventListener("paste", function (event) {
      var data = event.clipboardData ? event.clipboardData.getData("text") : "";
      var digits = digitsOnly(data);
      if (!digits) return;
      event.preventDefault();
      code.value = digits;
      if (length > 0 && digits.length === length && code.form && code.form.requestSubmit) code.form.requestSubmit();
    });
    code.addEventListener("input", function () {
      var digits = digitsOnly(code.value);
      if (digits !== code.value) code.value = digits;
    });
  }

  // One submission per click: a second press while the first is on its way does nothing.
  var forms = document.querySelectorAll("form");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", function (event) {
      var form = event.currentTarget;
      if (form.getAttribute("data-sent")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
      form.setAttribute("aria-busy", "true");
    });
  }
})();
