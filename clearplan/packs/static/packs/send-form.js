// The send form's SMS counter: characters and text messages, the link included, as you type.
// Without this file the count shown is the one the page was drawn with.
(function () {
  "use strict";
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
    "¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function measure(text) {
    var chars = Array.from(text);
    var unicode = chars.some(function (c) { return GSM.indexOf(c) === -1 && EXTENDED.indexOf(c) === -1; });
    var units = 0;
    chars.forEach(function (c) {
      if (unicode) units += c.codePointAt(0) > 0xffff ? 2 : 1;
      else units += EXTENDED.indexOf(c) === -1 ? 1 : 2;
    });
    var single = unicode ? 70 : 160;
    var multi = unicode ? 67 : 153;
    var segments = units <= single ? 1 : Math.ceil(units / multi);
    return { units: units, segments: segments, unicode: unicode };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-sms-text]");
    var out = document.getElementById("sms-length");
    if (!box || !out) return;
    var linkLength = parseInt(out.getAttribute("data-link-length"), 10) || 0;
    var timer = null;
    function update() {
      var result = measure(box.value.trim() + "x".repeat(linkLength));
      out.textContent = result.units + " characters with the link: " + result.segments + " text " +
        (result.segments === 1 ? "message" : "messages") + (result.unicode ? " (special characters use more room)" : "");
    }
    box.addEventListener("input", function () {
      // Announced once typing pauses, not on every key.
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
  });
})();
