// Small enhancements; every page works without them.
(function () {
  "use strict";

  // One tap, one submit: a second tap on a slow connection would only repeat the request.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    window.setTimeout(function () { delete form.dataset.submitted; }, 8000);
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-copy],[data-print]");
    if (!target) return;
    if (target.hasAttribute("data-print")) {
      window.print();
      return;
    }
    var input = document.getElementById(target.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var done = function () { target.textContent = "Copied"; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(done, function () {});
    } else if (document.execCommand("copy")) {
      done();
    }
  });

  // Times are stored in UTC; show them in the phone's own time zone.
  Array.prototype.forEach.call(document.querySelectorAll("time[data-local]"), function (node) {
    var when = new Date(node.getAttribute("datetime"));
    if (!isNaN(when)) {
      node.textContent = when.toLocaleString(undefined, {
        day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"
      });
    }
  });

  // Keep the screen on while the badge is shown, so it stays scannable.
  if (document.body.classList.contains("badge-page") && navigator.wakeLock) {
    var lock = function () { navigator.wakeLock.request("screen").catch(function () {}); };
    lock();
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") lock();
    });
  }
})();
