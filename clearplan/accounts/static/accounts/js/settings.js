// Keeps the colour picker and the typed hex value of the brand colour in step.
// Without scripts the text box alone works; the picker stays hidden.
(function () {
  "use strict";
  var HEX = /^#[0-9a-fA-F]{6}$/;
  document.querySelectorAll("input[data-colour-picker]").forEach(function (picker) {
    var text = document.getElementById(picker.getAttribute("data-colour-picker"));
    if (!text) return;
    picker.hidden = false;
    picker.addEventListener("input", function () {
      text.value = picker.value.toUpperCase();
    });
    text.addEventListener("input", function () {
      if (HEX.test(text.value)) picker.value = text.value.toLowerCase();
    });
  });
})();
