// The door kiosk (organizer/kiosk_views.py): back to the start after a while untouched, and once
// the person's phone has taken the hand-off over. location.replace, so the page left behind is
// not one the back button returns to.
(function () {
  "use strict";

  var root = document.getElementById("kiosk");
  if (!root) return;
  var home = root.getAttribute("data-home");
  var idle = parseInt(root.getAttribute("data-idle"), 10) * 1000;
  var status = root.getAttribute("data-status");
  var atHome = window.location.pathname === home;

  function goHome() {
    window.location.replace(home);
  }

  var fullscreen = document.querySelector("[data-fullscreen]");
  if (fullscreen && document.fullscreenEnabled) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", function () {
      document.documentElement.requestFullscreen().catch(function () {});
    });
  }

  // A page brought back from the browser's memory (the back button) is not shown again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !atHome) goHome();
  });

  if (!atHome && idle > 0) {
    var timer = null;
    var restart = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(goHome, idle);
    };
    ["pointerdown", "keydown", "input", "scroll"].forEach(function (name) {
      document.addEventListener(name, restart, { passive: true, capture: true });
    });
    restart();
  }

  // The name search: fetched and swapped in, as you type and on Search, so no page of names
  // becomes a history entry. A refusal the page must show beside the field (say, a hidden
  // character) falls back to sending the form itself.
  var searchForm = document.querySelector("form[data-kiosk-search]");
  if (searchForm && window.fetch && window.DOMParser) {
    var field = searchForm.querySelector("input[name=name]");
    var sent = 0;
    var search = function () {
      var mine = ++sent;
      fetch(searchForm.action, { method: "POST", body: new FormData(searchForm), credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null || mine !== sent) return;
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById("kiosk-results");
          if (page.getElementById("name-error") || !fresh) {
            searchForm.submit();
            return;
          }
          document.getElementById("kiosk-results").replaceWith(document.adoptNode(fresh));
        }, function () {});
    };
    var typing = null;
    field.addEventListener("input", function () {
      window.clearTimeout(typing);
      if (field.value.trim().length >= 2) typing = window.setTimeout(search, 300);
    });
    searchForm.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(typing);
      if (field.value.trim().length < 2) {
        searchForm.submit();  // the server says what is missing, beside the field
        return;
      }
      search();
    });
  }

  if (status) {
    var check = function () {
      fetch(status, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { done: true }; })
        .then(function (answer) {
          if (answer.done) goHome(); else window.setTimeout(check, 2000);
        }, function () { window.setTimeout(check, 4000); });
    };
    window.setTimeout(check, 2000);
  }
})();
