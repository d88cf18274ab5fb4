/* Markup editor: draw arrows, circles and boxes over a case image.
   Marks are kept as fractions (0 to 1) of the picture's width and height and saved as JSON;
   the picture itself is never changed. Drawing mirrors clearplan/plans/image_markup.py. */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var MAX_SHAPES = 50;

  function round(value) { return Math.round(Math.min(1, Math.max(0, value)) * 10000) / 10000; }

  function setup(form) {
    var canvas = form.querySelector(".markup-canvas");
    var toolbar = form.querySelector("[data-markup-toolbar]");
    var input = form.querySelector("[data-markup-input]");
    var count = form.querySelector("[data-markup-count]");
    var dataScript = document.getElementById("markup-data");
    if (!canvas || !toolbar || !input || !dataScript) { return; }
    var width = Number(canvas.dataset.width) || 1;
    var height = Number(canvas.dataset.height) || 1;
    var shapes = JSON.parse(dataScript.textContent || "[]");
    var history = [];
    var tool = "arrow";
    var colour = toolbar.querySelector("[data-colour]").dataset.colour;
    var hexes = {};
    toolbar.querySelectorAll("[data-colour]").forEach(function (button) { hexes[button.dataset.colour] = button.dataset.hex; });

    var svg = canvas.querySelector("svg.image-markup");
    if (!svg) {
      svg = document.createElementNS(SVG_NS, "svg");
      svg.setAttribute("class", "image-markup");
      svg.setAttribute("aria-hidden", "true");
      canvas.appendChild(svg);
    }
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);

    form.querySelectorAll("[hidden][data-markup-toolbar], [hidden][data-markup-help], [hidden][data-markup-save]").forEach(function (el) { el.hidden = false; });
    var noScript = form.parentNode.querySelector("[data-markup-no-script]");
    if (noScript) { noScript.hidden = true; }
    canvas.classList.add("markup-canvas--drawing");
    canvas.tabIndex = 0;
    canvas.setAttribute("role", "application");
    canvas.setAttribute("aria-label", "Picture to draw on");
    canvas.setAttribute("aria-describedby", "markup-help");

    function element(name, attributes) {
      var node = document.createElementNS(SVG_NS, name);
      Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
      return node;
    }

    function shapeNode(shape) {
      var common = { fill: "none", stroke: hexes[shape.colour] || "#e11d48", "stroke-width": Math.max(width, height) * 0.006, "stroke-linecap": "round" };
      if (shape.type === "box") {
        return element("rect", Object.assign({ x: shape.x * width, y: shape.y * height, width: shape.w * width, height: shape.h * height }, common));
      }
      if (shape.type === "circle") {
        return element("ellipse", Object.assign({ cx: shape.cx * width, cy: shape.cy * height, rx: shape.rx * width, ry: shape.ry * height }, common));
      }
      var x1 = shape.x1 * width, y1 = shape.y1 * height, x2 = shape.x2 * width, y2 = shape.y2 * height;
      var head = Math.max(width, height) * 0.035;
      var angle = Math.atan2(y2 - y1, x2 - x1);
      var ax = x2 + head * Math.cos(angle + Math.PI - 0.45), ay = y2 + head * Math.sin(angle + Math.PI - 0.45);
      var bx = x2 + head * Math.cos(angle + Math.PI + 0.45), by = y2 + head * Math.sin(angle + Math.PI + 0.45);
      return element("path", Object.assign({ d: "M " + x1 + " " + y1 + " L " + x2 + " " + y2 + " M " + ax + " " + ay + " L " + x2 + " " + y2 + " L " + bx + " " + by, "stroke-linejoin": "round" }, common));
    }

    function describe() {
      var counts = {};
      shapes.forEach(function (shape) { counts[shape.type] = (counts[shape.type] || 0) + 1; });
      var words = Object.keys(counts).map(function (kind) {
        var plural = counts[kind] === 1 ? kind : (kind === "box" ? "boxes" : kind + "s");
        return counts[kind] + " " + plural;
      });
      if (!words.length) { return "no marks"; }
      return words.length === 1 ? words[0] : words.slice(0, -1).join(", ") + " and " + words[words.length - 1];
    }

    function render(preview) {
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      shapes.forEach(function (shape) { svg.appendChild(shapeNode(shape)); });
      if (preview) { svg.appendChild(shapeNode(preview)); }
      input.value = JSON.stringify(shapes);
      if (count) { count.textContent = "Marked with " + describe() + " (not saved until you press Save markup)."; }
    }

    function change(next) {
      history.push(shapes);
      shapes = next;
      render();
    }

    function fromDrag(start, end) {
      var left = Math.min(start.x, end.x), top = Math.min(start.y, end.y);
      var right = Math.max(start.x, end.x), bottom = Math.max(start.y, end.y);
      if (tool === "box") { return { type: "box", x: round(left), y: round(top), w: round(right - left), h: round(bottom - top), colour: colour }; }
      if (tool === "circle") { return { type: "circle", cx: round((left + right) / 2), cy: round((top + bottom) / 2), rx: round((right - left) / 2), ry: round((bottom - top) / 2), colour: colour }; }
      return { type: "arrow", x1: round(start.x), y1: round(start.y), x2: round(end.x), y2: round(end.y), colour: colour };
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)), y: Math.min(1, Math.max(0, (event.clientY - box.top) / box.height)) };
    }

    var start = null;
    canvas.addEventListener("pointerdown", function (event) {
      if (shapes.length >= MAX_SHAPES) { return; }
      event.preventDefault();
      start = point(event);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (start) { render(fromDrag(start, point(event))); }
    });
    canvas.addEventListener("pointerup", function (event) {
      if (!start) { return; }
      var end = point(event);
      var tiny = Math.abs(end.x - start.x) < 0.01 && Math.abs(end.y - start.y) < 0.01;
      var shape = fromDrag(start, end);
      start = null;
      if (tiny) { render(); } else { change(shapes.concat([shape])); }
    });
    canvas.addEventListener("pointercancel", function () { start = null; render(); });

    // Keyboard: Enter adds the chosen shape in the middle; arrow keys move the newest mark.
    canvas.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        if (shapes.length < MAX_SHAPES) { change(shapes.concat([fromDrag({ x: 0.4, y: 0.4 }, { x: 0.6, y: 0.6 })])); }
        return;
      }
      var moves = { ArrowLeft: [-0.02, 0], ArrowRight: [0.02, 0], ArrowUp: [0, -0.02], ArrowDown: [0, 0.02] };
      if (!moves[event.key] || !shapes.length) { return; }
      event.preventDefault();
      var dx = moves[event.key][0], dy = moves[event.key][1];
      var last = Object.assign({}, shapes[shapes.length - 1]);
      if (last.type === "box") { last.x = round(Math.min(1 - last.w, last.x + dx)); last.y = round(Math.min(1 - last.h, last.y + dy)); }
      else if (last.type === "circle") { last.cx = round(last.cx + dx); last.cy = round(last.cy + dy); }
      else { last.x1 = round(last.x1 + dx); last.y1 = round(last.y1 + dy); last.x2 = round(last.x2 + dx); last.y2 = round(last.y2 + dy); }
      change(shapes.slice(0, -1).concat([last]));
    });

    function press(group, button) {
      toolbar.querySelectorAll(group).forEach(function (other) { other.setAttribute("aria-pressed", other === button ? "true" : "false"); });
    }
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.dataset.tool) { tool = button.dataset.tool; press("[data-tool]", button); }
      else if (button.dataset.colour) { colour = button.dataset.colour; press("[data-colour]", button); }
      else if (button.dataset.action === "undo" && history.length) { shapes = history.pop(); render(); }
      else if (button.dataset.action === "clear" && shapes.length) { change([]); }
    });

    render();
    if (count) { count.textContent = "Marked with " + describe() + "."; }
  }

  document.querySelectorAll("[data-markup-editor]").forEach(setup);
})();
