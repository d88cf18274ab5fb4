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

  // On a wide screen a conversation opens beside the list without a page load, so the list
  // keeps its place; the address changes as if the link had been followed. On a phone, or
  // without htmx, the link is followed as usual.
  var WIDE = window.matchMedia("(min-width: 901px)");

  function markSelected(link) {
    document.querySelectorAll(".inbox-row--selected").forEach(function (row) {
      row.classList.remove("inbox-row--selected");
      var current = row.querySelector("[aria-current]");
      if (current) current.removeAttribute("aria-current");
    });
    var row = link.closest(".inbox-row");
    row.classList.add("inbox-row--selected");
    link.setAttribute("aria-current", "true");
    // Opening it reads it for the team.
    row.classList.remove("inbox-row--unread");
    var count = row.querySelector(".inbox-row__unread");
    if (count) count.remove();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".inbox-row__link");
    var pane = document.getElementById("thread-pane");
    if (!link || !pane || !window.htmx || !WIDE.matches) return;
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    var url = link.getAttribute("href");
    window.htmx.ajax("GET", url, { target: "#thread-pane", swap: "innerHTML" }).then(function () {
      pane.classList.remove("inbox__thread--empty");
      pane.removeAttribute("aria-label");
      pane.setAttribute("aria-labelledby", "thread-heading");
      markSelected(link);
      if (window.location.pathname + window.location.search !== url) {
        window.history.pushState({ conversation: url }, "", url);
      }
      shown = url;
      var badge = document.querySelector(".nav-badge-slot");
      if (badge) window.htmx.trigger(badge, "conversation-read");
      var heading = document.getElementById("thread-heading");
      if (heading) {
        document.title = "Conversation with " + heading.textContent.trim() + " · Clearplan";
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
      showLatest();
    });
  });

  // Back and forward after a swap: show the page for that address.
  var shown = window.location.pathname + window.location.search;
  window.addEventListener("popstate", function () {
    var now = window.location.pathname + window.location.search;
    if (now !== shown && document.getElementById("thread-pane")) window.location.reload();
  });

  document.addEventListener("DOMContentLoaded", showLatest);
  // After htmx sends a message, the page's double-submit guard lets the fresh composer send again.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = event.target.querySelector && event.target.querySelector("[data-composer]");
    if (form) delete form.dataset.submitted;
  });
})();
