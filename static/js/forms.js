// Small helps on forms, all optional: the pages work the same without them.
(function () {
  "use strict";

  // "还可以输入N字": a live count under fields that carry data-counter.
  document.querySelectorAll("[data-counter][maxlength]").forEach(function (field) {
    var max = parseInt(field.getAttribute("maxlength"), 10);
    var note = document.createElement("p");
    note.className = "hint counter";
    note.id = field.id + "-counter";
    note.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", note);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    var template = document.documentElement.lang === "en" ? "{n} characters left" :
      (document.documentElement.lang === "zh-Hant" ? "還可以輸入{n}字" : "还可以输入{n}字");
    var timer = null;
    function update() {
      note.textContent = template.replace("{n}", String(max - field.value.length));
    }
    field.addEventListener("input", function () {
      // Announce after typing pauses, not on every key.
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
    update();
  });

  // Print buttons exist only where the script can press them.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
