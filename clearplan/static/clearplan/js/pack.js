/* The patient's pack pages. Everything here is an extra: the pages work without it.
   - A whole date of birth pasted into one box is spread over the day, month and year boxes.
   - Tapping a picture opens it large in a dialog (without the script the link opens the picture).
   - Printing opens the folded answers, so the paper copy has everything.
   - Engagement: which sections came into view and how long the page was visible, sent to the
     practice's own server (no third parties) every 15 seconds and when the reader leaves. */
(function () {
  "use strict";

  /* ---------- Date of birth: paste a whole date into one box ---------- */

  var MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

  function splitDate(text, monthFirst) {
    var parts = String(text).trim().match(/[0-9]+|[a-z]+/gi);
    if (!parts || parts.length !== 3) return null;
    var named = -1;
    for (var i = 0; i < 3; i++) {
      if (/^[a-z]+$/i.test(parts[i])) {
        var month = MONTHS.indexOf(parts[i].slice(0, 3).toLowerCase());
        if (month < 0 || named >= 0) return null;
        named = i;
        parts[i] = String(month + 1);
      }
    }
    if (named >= 0) {
      var rest = parts.filter(function (_, index) { return index !== named; });
      if (rest[0].length === 4) rest.reverse();
      return { day: rest[0], month: parts[named], year: rest[1] };
    }
    if (parts[0].length === 4) return { day: parts[2], month: parts[1], year: parts[0] };
    if (parts[2].length !== 4) return null;
    return monthFirst
      ? { day: parts[1], month: parts[0], year: parts[2] }
      : { day: parts[0], month: parts[1], year: parts[2] };
  }

  function setUpDateOfBirth(group) {
    var monthFirst = group.getAttribute("data-month-first") === "true";
    var boxes = {
      day: group.querySelector("[name=day]"),
      month: group.querySelector("[name=month]"),
      year: group.querySelector("[name=year]")
    };
    if (!boxes.day || !boxes.month || !boxes.year) return;
    function spread(event, text) {
      var date = splitDate(text, monthFirst);
      if (!date) return false;
      if (event) event.preventDefault();
      boxes.day.value = date.day;
      boxes.month.value = date.month;
      boxes.year.value = date.year;
      boxes.year.focus();
      return true;
    }
    Object.keys(boxes).forEach(function (name) {
      var box = boxes[name];
      box.addEventListener("paste", function (event) {
        var data = event.clipboardData || window.clipboardData;
        if (data) spread(event, data.getData("text"));
      });
      // Autofill or typing may still leave a whole date in one box.
      box.addEventListener("change", function () {
        if (/[^0-9]/.test(box.value.trim())) spread(null, box.value);
      });
    });
  }

  /* ---------- Pictures: tap to enlarge ---------- */

  function setUpLightbox() {
    var links = document.querySelectorAll("a.pack-image__open");
    if (!links.length || typeof HTMLDialogElement !== "function") return;
    var dialog = document.createElement("dialog");
    dialog.className = "pack-lightbox";
    dialog.setAttribute("aria-label", "Enlarged picture");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "pack-lightbox__close";
    close.textContent = "Close";
    var image = document.createElement("img");
    image.className = "pack-lightbox__image";
    var caption = document.createElement("p");
    caption.className = "pack-lightbox__caption";
    dialog.appendChild(close);
    dialog.appendChild(image);
    dialog.appendChild(caption);
    document.body.appendChild(dialog);
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    dialog.addEventListener("close", function () { image.removeAttribute("src"); });
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function (event) {
        if (event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        var small = link.querySelector("img");
        var figure = link.closest("figure");
        var text = figure && figure.querySelector("figcaption");
        image.src = link.getAttribute("href");
        image.alt = small ? small.alt : "";
        caption.textContent = text ? text.textContent : "";
        caption.hidden = !text;
        dialog.showModal();
        close.focus();
      });
    });
  }

  /* ---------- Engagement ---------- */

  var SEND_EVERY_SECONDS = 15;
  var IDLE_AFTER_MS = 60000;

  function setUpEngagement(main) {
    var url = main.getAttribute("data-engagement-url");
    var visit = main.getAttribute("data-visit");
    var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!url || !visit || !tokenInput) return;
    var seen = {};
    var unsent = false;
    var pendingSeconds = 0;
    var sinceSend = 0;
    var lastActivity = Date.now();

    function note(name) {
      if (name && !seen[name]) {
        seen[name] = true;
        unsent = true;
      }
    }

    function send() {
      if (!pendingSeconds && !unsent) return;
      var body = new URLSearchParams();
      body.set("csrfmiddlewaretoken", tokenInput.value);
      body.set("visit", visit);
      body.set("seconds", String(pendingSeconds));
      body.set("sections", Object.keys(seen).join(","));
      pendingSeconds = 0;
      unsent = false;
      sinceSend = 0;
      var queued = false;
      if (navigator.sendBeacon) {
        try { queued = navigator.sendBeacon(url, body); } catch (error) { queued = false; }
      }
      if (!queued && window.fetch) {
        fetch(url, { method: "POST", body: body, keepalive: true, credentials: "same-origin" }).catch(function () {});
      }
    }

    var sections = document.querySelectorAll("[data-pack-section]");
    if ("IntersectionObserver" in window) {
      // A section counts as seen when any of it crosses the middle of the screen.
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) note(entry.target.getAttribute("data-pack-section"));
        });
      }, { rootMargin: "-30% 0px -30% 0px", threshold: 0 });
      Array.prototype.forEach.call(sections, function (section) { observer.observe(section); });
    }
    // At the very end of the page the last sections may never reach the middle of the screen.
    function atBottom() {
      if (window.innerHeight + window.scrollY < document.documentElement.scrollHeight - 4) return;
      Array.prototype.forEach.call(sections, function (section) {
        var box = section.getBoundingClientRect();
        if (box.bottom > 0 && box.top < window.innerHeight) note(section.getAttribute("data-pack-section"));
      });
    }

    function active() { lastActivity = Date.now(); }
    ["scroll", "keydown", "pointerdown", "pointermove", "touchstart", "wheel"].forEach(function (type) {
      window.addEventListener(type, active, { passive: true });
    });
    window.addEventListener("scroll", atBottom, { passive: true });

    window.setInterval(function () {
      if (document.visibilityState !== "visible") return;
      if (Date.now() - lastActivity > IDLE_AFTER_MS) return;
      pendingSeconds += 1;
      sinceSend += 1;
      if (sinceSend >= SEND_EVERY_SECONDS) send();
    }, 1000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") send();
      else active();
    });
    window.addEventListener("pagehide", send);
  }

  /* ---------- Printing: answers folded away print too ---------- */

  function setUpPrinting() {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      opened = Array.prototype.filter.call(document.querySelectorAll(".pack details:not([open])"), function (item) {
        item.open = true;
        return true;
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (item) { item.open = false; });
      opened = [];
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-date-of-birth]"), setUpDateOfBirth);
    setUpLightbox();
    setUpPrinting();
    var main = document.querySelector("main[data-visit]");
    if (main) setUpEngagement(main);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
