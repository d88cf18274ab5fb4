/* The optional drawn signature on the consent form.
 *
 * Without this script the drawing area stays hidden and the typed name is the signature. With it,
 * strokes drawn with a finger, pen or mouse on the canvas are kept as SVG path data ("M x y L x y …",
 * in a 0–1000 × 0–300 box whatever the canvas's size on screen) in the form's hidden
 * drawn_signature field, which the server checks again. Drawing is optional, so keyboard users
 * simply skip it.
 */
(function () {
  "use strict";

  var WIDTH = 1000;
  var HEIGHT = 300;
  var MIN_STEP = 3; // box units between kept points, so a slow stroke does not grow without end
  var MAX_CHARS = 35000; // the server refuses more than 40 000

  function round(value) {
    return Math.round(value * 10) / 10;
  }

  function clamp(value, low, high) {
    return Math.min(high, Math.max(low, value));
  }

  function setUp(pad) {
    var form = pad.closest("form");
    var canvas = pad.querySelector("[data-signature-canvas]");
    var clear = pad.querySelector("[data-signature-clear]");
    var field = form && form.querySelector("input[type=hidden][name$='drawn_signature']");
    if (!canvas || !field || !canvas.getContext) return;
    var context = canvas.getContext("2d");
    var strokes = [];
    var current = null;
    var size = 0;

    function ink() {
      context.lineWidth = 5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#1c2430";
    }

    function draw() {
      context.clearRect(0, 0, WIDTH, HEIGHT);
      ink();
      strokes.forEach(function (stroke) {
        context.beginPath();
        context.moveTo(stroke[0][0], stroke[0][1]);
        if (stroke.length === 1) context.lineTo(stroke[0][0] + 0.1, stroke[0][1]);
        for (var i = 1; i < stroke.length; i++) context.lineTo(stroke[i][0], stroke[i][1]);
        context.stroke();
      });
    }

    function save() {
      var parts = [];
      strokes.forEach(function (stroke) {
        parts.push("M " + stroke[0][0] + " " + stroke[0][1]);
        var rest = stroke.length === 1 ? [stroke[0]] : stroke.slice(1);
        parts.push("L " + rest.map(function (point) { return point[0] + " " + point[1]; }).join(" "));
      });
      field.value = parts.join(" ");
      size = field.value.length;
    }

    function pointFrom(event) {
      var box = canvas.getBoundingClientRect();
      if (!box.width || !box.height) return null;
      return [
        round(clamp(((event.clientX - box.left) / box.width) * WIDTH, 0, WIDTH)),
        round(clamp(((event.clientY - box.top) / box.height) * HEIGHT, 0, HEIGHT)),
      ];
    }

    function far(a, b) {
      return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) >= MIN_STEP;
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (size > MAX_CHARS) return;
      var point = pointFrom(event);
      if (!point) return;
      event.preventDefault();
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      current = [point];
      strokes.push(current);
      draw();
    });

    canvas.addEventListener("pointermove", function (event) {
      if (!current || size > MAX_CHARS) return;
      var point = pointFrom(event);
      if (!point || !far(point, current[current.length - 1])) return;
      event.preventDefault();
      current.push(point);
      size += 14;
      draw();
    });

    function finish() {
      if (!current) return;
      current = null;
      save();
    }

    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("lostpointercapture", finish);

    if (clear) {
      clear.addEventListener("click", function () {
        strokes = [];
        current = null;
        field.value = "";
        size = 0;
        draw();
      });
    }

    // A drawing sent back with the form (another field needed attention) is shown again.
    var kept = field.value.match(/[ML][^ML]*/g) || [];
    kept.forEach(function (command) {
      var numbers = command.slice(1).trim().split(/[\s,]+/).map(Number);
      for (var i = 0; i + 1 < numbers.length; i += 2) {
        var point = [numbers[i], numbers[i + 1]];
        if (command[0] === "M" && i === 0) strokes.push([point]);
        else if (strokes.length) strokes[strokes.length - 1].push(point);
      }
    });
    size = field.value.length;
    draw();
    pad.hidden = false;
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-signature-pad]"), setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
