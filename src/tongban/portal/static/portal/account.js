/* Account pages: the "send code" button counts down after a code was sent (data-countdown).
   Without JavaScript the button simply stays enabled; the server still limits requests. */
(function () {
  "use strict";

  function countdown(button) {
    var left = parseInt(button.getAttribute("data-countdown"), 10);
    var label = button.getAttribute("data-label");
    var wait = button.getAttribute("data-wait");
    if (!(left > 0)) return;
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = wait.replace("%(n)s", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function start() {
    document.querySelectorAll("button[data-countdown]").forEach(countdown);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
