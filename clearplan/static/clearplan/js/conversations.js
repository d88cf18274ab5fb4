// Conversations: a quick reply fills the message box at once, the SMS length updates as you
// type, and the thread opens at its latest message. Without this file the page still works:
// "Use" reloads the thread with the quick reply in the box, and the count is the page's own.
(function () {
  "use strict";
  // The GSM 03.38 alphabet (160 characters to a text); anything else sends as Unicode (70).
  var ONLY_GSM = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€\f]*$/;
  var DOUBLE_IN_GSM = /[\^{}\\[~\]|€\f]/g;

  function describe(text, added) {
    var full = text + added;
    var gsm = ONLY_GSM.test(full);
    var units = gsm ? full.length + (full.match(DOUBLE_IN_GSM) || []).length : full.length;
    var perPart = gsm ? [160, 153] : [70, 67];
    var parts = units <= perPart[0] ? 1 : Math.ceil(units / perPart[1]);
    var noun = parts === 1 ? "message" : "messages";
    var note = gsm ? "" : " Accented letters and emoji leave less room in each text.";
    return "By SMS: " + parts + " text " + noun + " (" + units + " characters with your sign-off)." + note;
  }

  var timer = null;
  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest("[data-composer-body]");
    if (!box) return;
    var form = box.closest("form");
    var out = form && form.querySelector("[data-composer-count]");
    if (!out) return;
    // Announced once typing pauses, not on every key.
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      out.textContent = describe(box.value.trim(), out.getAttribute("data-signature") || "");
    }, 300);
  });

  function fillFromQuickReply(select) {
    var option = select.options[select.selectedIndex];
    var pane = select && select.closest(".thread-conversation");
    var box = pane && pane.querySelector("[data-composer-body]");
    if (!option || !box) return;
    box.value = option.getAttribute("data-text") || "";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }

  // The picker's select and button sit in the composer but belong to their own GET form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-quick-replies")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    fillFromQuickReply(form.elements.namedItem("quick"));
  }, true);

  function showLatest() {
    var latest = document.getElementById("thread-latest");
    var list = document.querySelector(".inbox-row--selected");
    if (list && list.scrollIntoView) list.scrollIntoView({ block: "nearest" });
    if (latest && window.location.hash !== "#thread-latest" && latest.scrollIntoView) {
      latest.scrollIntoView({ block: "nearest" });
    }
  }

  document.addEventListener("DOMContentLoaded", showLatest);
  // After htmx sends a message, the page's double-submit guard lets the fresh composer send again.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = event.target.querySelector && event.target.querySelector("[data-composer]");
    if (form) delete form.dataset.submitted;
  });
})();
