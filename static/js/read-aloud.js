// Read the page's main content aloud with the browser's own speech synthesis.
// Progressive enhancement: the button stays hidden where speech is unavailable.
(function () {
  "use strict";
  var button = document.getElementById("read-aloud");
  if (!button || !("speechSynthesis" in window) || !window.SpeechSynthesisUtterance) {
    return;
  }
  var synth = window.speechSynthesis;
  var speaking = false;

  function show(state) {
    speaking = state;
    button.setAttribute("aria-pressed", state ? "true" : "false");
    button.textContent = button.getAttribute(state ? "data-stop" : "data-start");
  }

  function mainText() {
    var copy = document.getElementById("main").cloneNode(true);
    // Pinyin annotations and hidden parts are not read.
    copy.querySelectorAll("rt, rp, [hidden], form, .skip-read").forEach(function (node) {
      node.remove();
    });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function sentences(text) {
    // Long utterances stop early in some browsers, so speak sentence by sentence.
    return text.match(/[^。！？!?；;\n]+[。！？!?；;]?/g) || [];
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    if (speaking) {
      synth.cancel();
      show(false);
      return;
    }
    var parts = sentences(mainText());
    if (!parts.length) {
      return;
    }
    show(true);
    parts.forEach(function (part, index) {
      var utterance = new SpeechSynthesisUtterance(part);
      utterance.lang = button.getAttribute("data-voice");
      utterance.rate = 0.9;
      if (index === parts.length - 1) {
        utterance.onend = function () { show(false); };
      }
      utterance.onerror = function () { show(false); };
      synth.speak(utterance);
    });
  });
})();
