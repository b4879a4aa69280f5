// The guest-list import: while the import runs, say how far it has got. The page works without it.
(function () {
  "use strict";
  var form = document.getElementById("mapping-form");
  var status = document.getElementById("import-progress");
  if (!form || !status || !window.fetch) return;

  form.addEventListener("submit", function (event) {
    if (!event.submitter || event.submitter.name !== "confirm") return;
    status.hidden = false;
    status.textContent = "Importing… this takes a few seconds.";
    window.setInterval(function () {
      fetch(form.getAttribute("data-progress"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (progress) {
          if (progress && progress.total) {
            status.textContent = "Importing… " + progress.done + " of " + progress.total + " rows.";
          }
        })
        .catch(function () {});
    }, 700);
  });
})();
