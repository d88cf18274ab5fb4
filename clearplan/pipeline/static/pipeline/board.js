// The Pipeline board: drag a card to another column, or use its Move menu (which works with
// the keyboard and without this file). Both send the same form to the server; htmx swaps in
// the changed columns and the sentence for the live region. Also: the "Not proceeding for now"
// dialog, closing Move menus, focus after a move, and "tick every case" on the list.
(function () {
  "use strict";

  var NOT_PROCEEDING = "not_proceeding";
  var dragged = null;

  function board() {
    return document.getElementById("board");
  }

  function say(sentence, isError) {
    var status = document.getElementById("board-status");
    if (!status) return;
    var message = document.createElement("p");
    message.className = "board-status__message" + (isError ? " board-status__message--error" : "");
    message.textContent = sentence;
    status.replaceChildren(message);
  }

  function movesOf(card) {
    return (card.dataset.moves || "").split(" ").filter(Boolean);
  }

  function prepare(root) {
    if (!root.querySelectorAll) return;
    var cards = root.matches && root.matches(".board-card") ? [root] : root.querySelectorAll(".board-card");
    cards.forEach(function (card) {
      if (movesOf(card).length) card.setAttribute("draggable", "true");
    });
    var all = root.querySelector && root.querySelector(".pipeline-table__all");
    if (all) all.hidden = false;
  }

  // ---------- Moving by the card's menu or by dropping ----------

  // The menu's buttons are drawn once per column (a <template>); a card gets its own copy, with
  // its case and revision, the first time its menu opens or it is dropped somewhere.
  function menuOf(card) {
    var panel = card.querySelector(".move-menu__panel");
    if (!panel) return null;
    var form = panel.querySelector("form");
    if (form) return form;
    var column = card.closest(".board-column");
    var template = column && column.querySelector(".move-menu-template");
    if (!template) return null;
    panel.replaceChildren(template.content.cloneNode(true));
    form = panel.querySelector("form");
    form.elements.case.value = card.dataset.case;
    form.elements.revision.value = card.dataset.revision;
    if (window.htmx) window.htmx.process(form);
    return form;
  }

  document.addEventListener(
    "toggle",
    function (event) {
      var menu = event.target;
      if (menu.classList && menu.classList.contains("move-menu") && menu.open) {
        menuOf(menu.closest(".board-card"));
      }
    },
    true
  );

  function moveBy(card, stage) {
    if (stage === NOT_PROCEEDING) {
      openNotProceeding(card);
      return;
    }
    var form = menuOf(card);
    var button = form && form.querySelector('button[data-to-stage="' + stage + '"]');
    if (!button) return;
    card.setAttribute("aria-busy", "true");
    // A click, not requestSubmit: htmx learns which button sent the form from the click.
    button.click();
  }

  function refuse(card, column) {
    var label = column.dataset.label;
    var how = column.dataset.how;
    say(how ? how : "A case in “" + card.dataset.stageLabel + "” can’t move to “" + label + "”.", true);
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.case);
    card.classList.add("board-card--dragging");
    var moves = movesOf(card);
    board().classList.add("board--dragging");
    board().querySelectorAll(".board-column").forEach(function (column) {
      var stage = column.dataset.stage;
      if (stage === card.dataset.stage) return;
      column.classList.add(moves.indexOf(stage) >= 0 ? "board-column--drop-ok" : "board-column--drop-no");
    });
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("board-card--dragging");
    dragged = null;
    var element = board();
    if (!element) return;
    element.classList.remove("board--dragging");
    element.querySelectorAll(".board-column").forEach(function (column) {
      column.classList.remove("board-column--drop-ok", "board-column--drop-no", "board-column--drop-over");
    });
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var column = event.target.closest && event.target.closest(".board-column");
    if (!column) return;
    // Every column takes the drop (a dimmed one only to say why the case cannot go there).
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("board-column--drop-over");
  });

  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest(".board-column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("board-column--drop-over");
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var column = event.target.closest && event.target.closest(".board-column");
    if (!column) return;
    event.preventDefault();
    var card = dragged;
    var stage = column.dataset.stage;
    if (stage === card.dataset.stage) return;
    if (movesOf(card).indexOf(stage) < 0) {
      refuse(card, column);
      return;
    }
    moveBy(card, stage);
  });

  // ---------- "Not proceeding for now": ask why, and when to look again ----------

  var opener = null;

  function openNotProceeding(card) {
    var dialog = document.getElementById("np-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      var link = card.querySelector(".move-menu__panel a");
      if (link) window.location.assign(link.href);
      return;
    }
    var form = dialog.querySelector("form");
    form.elements.case.value = card.dataset.case;
    form.elements.revision.value = card.dataset.revision;
    form.elements.shown_stage.value = card.dataset.stage;
    delete form.dataset.submitted;
    dialog.querySelector(".np-dialog__patient").textContent = card.dataset.patient;
    opener = card;
    var menu = card.querySelector("details[open]");
    if (menu) menu.open = false;
    dialog.showModal();
    var reason = form.querySelector("select");
    if (reason) reason.focus();
  }

  function closeNotProceeding() {
    var dialog = document.getElementById("np-dialog");
    if (dialog && dialog.open) dialog.close();
  }

  document.addEventListener("click", function (event) {
    var opens = event.target.closest && event.target.closest("[data-np-open]");
    if (opens) {
      var card = opens.closest(".board-card");
      if (card) {
        event.preventDefault();
        openNotProceeding(card);
      }
      return;
    }
    if (event.target.closest && event.target.closest("[data-np-close]")) {
      closeNotProceeding();
      if (opener) opener.focus();
      return;
    }
    // A click elsewhere closes an open Move menu.
    document.querySelectorAll("details.move-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = event.target.closest && event.target.closest("details.move-menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // ---------- After a move ----------

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "board-status") return;
    closeNotProceeding();
    var message = target.querySelector("[data-card]");
    var card = message && document.getElementById(message.dataset.card);
    if (card) {
      card.focus();
    } else if (message) {
      // The case left the board (completed, or outside the filters): stay near where it was.
      message.setAttribute("tabindex", "-1");
      message.focus();
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "board-status") {
      say("The move could not be saved. Check your connection and try again.", true);
    }
  });

  document.addEventListener("htmx:load", function (event) {
    prepare(event.detail.elt);
  });

  // ---------- The list: tick every case on the page ----------

  document.addEventListener("change", function (event) {
    if (!event.target.classList || !event.target.classList.contains("pipeline-table__all")) return;
    var table = event.target.closest("table");
    table.querySelectorAll('input[name="cases"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      prepare(document);
    });
  } else {
    prepare(document);
  }
})();
