// Offline first, the page's side: registers the service worker (static/js/sw.js, served at
// /sw.js), marks a copy the worker showed without a network, shows how many scans wait to be
// sent and which the server refused, and sends the queue whenever the network may be back.
(function () {
  "use strict";
  var script = document.currentScript;
  var root = document.documentElement;
  var queue = window.kithmeetQueue; // a signed-in person's pages only (base.html)
  var owner = document.querySelector('meta[name="kithmeet-owner"]');
  var copiedAt = root.getAttribute("data-offline-copy");
  var statusLine = document.querySelector("[data-queue-status]");
  var refusedBox = document.querySelector("[data-queue-refused]");
  var RETRY_SECONDS = [15, 30, 60, 120];
  var retries = 0;
  var retryTimer = null;

  function noop() {}

  function clock(iso) {
    var when = new Date(iso);
    return isNaN(when) ? "" : when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // --- The worker ---------------------------------------------------------------------------

  function register() {
    if (!("serviceWorker" in navigator) || !script || !script.dataset.worker) return;
    navigator.serviceWorker.register(script.dataset.worker, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // The badge and the scanner kept for this person, so they work the first time offline too.
      if (owner && copiedAt === null && registration.active) {
        registration.active.postMessage({ type: "warm", owner: owner.getAttribute("content") });
      }
    }).catch(noop);
  }

  if (document.readyState === "complete") register();
  else window.addEventListener("load", register);

  // --- A copy shown without a network -------------------------------------------------------

  function what() {
    var path = window.location.pathname;
    if (path === "/followup") return "your list";
    if (path === "/badge") return "your badge";
    return "this page";
  }

  function markCopy() {
    var live = root.hasAttribute("data-offline-live");
    var note = document.createElement("p");
    note.className = "flash offline-note";
    note.setAttribute("role", "status");
    note.dataset.state = live ? "offline-live" : "offline-copy";
    note.textContent = live
      ? "You're offline — scans you make are saved on this phone and connect when you're back online."
      : "You're offline — this is " + what() + " as last seen at " + clock(copiedAt) + ".";
    var main = document.getElementById("main") || document.body;
    main.insertBefore(note, main.firstChild);
    if (live) return;
    // As last seen, and read-only: a change made here could not be sent.
    Array.prototype.forEach.call(document.forms, function (form) {
      form.dataset.offline = "read-only";
      Array.prototype.forEach.call(form.elements, function (control) { control.disabled = true; });
      form.addEventListener("submit", function (event) { event.preventDefault(); });
    });
    // Back online: the page itself, no longer the copy (nothing can have been typed into it);
    // once a request gets through, since a phone says "online" on Wi-Fi that carries nothing.
    window.addEventListener("online", function () {
      fetch(script.dataset.session, { cache: "no-store", credentials: "same-origin" }).then(function (response) {
        if (response.ok) window.location.reload();
      }, noop);
    });
  }

  if (copiedAt !== null) markCopy();

  // The offline page's "Try again".
  Array.prototype.forEach.call(document.querySelectorAll("[data-reload]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.location.reload(); });
  });

  if (!queue || !owner) return;

  // --- Scans waiting, scans refused ---------------------------------------------------------

  function showPending(count) {
    if (!statusLine) return;
    statusLine.dataset.pending = String(count);
    statusLine.textContent = count === 0 ? "" : count === 1 ? "1 scan waiting to sync"
      : count + " scans waiting to sync";
  }

  function badgeCode(badge) {
    var text = String(badge || "");
    var slash = text.replace(/\/+$/, "").lastIndexOf("/");
    if (slash >= 0) text = text.replace(/\/+$/, "").slice(slash + 1); // a badge URL: its token
    return text.replace(/[^A-Za-z0-9]/g, "").toUpperCase().replace(/(.{4})(?=.)/g, "$1 ");
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function showRefused() {
    if (!refusedBox) return;
    queue.refused().then(function (list) {
      refusedBox.textContent = "";
      refusedBox.hidden = list.length === 0;
      if (!list.length) return;
      var heading = element("h2", "", list.length === 1 ? "A saved scan didn't connect"
        : list.length + " saved scans didn't connect");
      heading.id = "queue-refused-heading";
      refusedBox.setAttribute("aria-labelledby", heading.id);
      refusedBox.appendChild(heading);
      refusedBox.appendChild(element("p", "meta", "Made while you were offline; when they were sent, kithmeet said:"));
      var items = element("ul", "queue-refused-list");
      list.forEach(function (entry) {
        var item = element("li");
        item.dataset.code = entry.code;
        item.appendChild(element("span", "mono", badgeCode(entry.badge)));
        item.appendChild(document.createTextNode(" (scanned " + clock(entry.scanned_at) + "): "));
        item.appendChild(element("span", "", entry.message || entry.code));
        items.appendChild(item);
      });
      refusedBox.appendChild(items);
      var dismiss = element("button", "button button-secondary", "Dismiss");
      dismiss.type = "button";
      dismiss.addEventListener("click", function () { queue.dismissRefused().catch(noop); });
      refusedBox.appendChild(dismiss);
    }, noop);
  }

  window.addEventListener("kithmeet:queue", function (event) {
    showPending(event.detail.pending);
    showRefused();
  });

  // --- Sending ------------------------------------------------------------------------------

  // Whenever the network may be back: this page's load, the `online` event, and (a phone on a
  // venue's Wi-Fi can be "online" with nothing getting through) a retry while scans wait.
  function flush() {
    window.clearTimeout(retryTimer);
    queue.flush().then(function (result) {
      if (result.kept) {
        var wait = RETRY_SECONDS[Math.min(retries, RETRY_SECONDS.length - 1)];
        retries += 1;
        retryTimer = window.setTimeout(flush, wait * 1000);
      } else {
        retries = 0;
      }
    }, noop);
  }

  window.addEventListener("online", function () { retries = 0; flush(); });
  queue.pending().then(function (count) {
    showPending(count);
    if (count) flush();
  }, noop);
  showRefused();
})();
