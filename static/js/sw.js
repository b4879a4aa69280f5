// The service worker: kithmeet keeps working without a network. Served at /sw.js by
// kithmeet/offline.py, which puts self.KITHMEET above this file: the version, the app shell to
// precache, the offline page and the queue script.
//
// - The app shell (CSS, scripts, the scanner's reader and its wasm, icons, the offline page) is
//   precached per version and served from the cache.
// - Pages: the network first. A signed-in person's badge, scanner, follow-up list and home are
//   kept as last seen, in a cache of their own (by owner key), and shown when the network
//   fails, marked as copies; any other page falls back to the offline page. Nothing else is
//   kept: no API answer, no other person's page, nothing of a signed-out visitor.
// - A page from the network that names no one (signed out, the account deleted, signed out
//   everywhere) or names someone else drops every person's copies.
// - The scan queue (scan-queue.js) is sent on Background Sync.
"use strict";

var CONFIG = self.KITHMEET;
importScripts(CONFIG.queueScript);

var SHELL = "kithmeet-shell-" + CONFIG.version;
var PEOPLE = "kithmeet-pages-";
// The pages kept per person. The scanner's copy stays usable (its scans go to the queue); the
// others are shown read-only.
var KEPT = { "/": "read-only", "/badge": "read-only", "/followup": "read-only", "/scan": "live" };
// What the badge page draws with besides the shell: its QR, and the event's logo and accent.
var BADGE_PARTS = /^\/(badge\/[A-Za-z0-9]+\.svg|logo\/[A-Za-z0-9_-]+\.png|brand\/[0-9A-Fa-f]+\.css)$/;
var BADGE_PART_LINKS = /(?:src|href)="(\/(?:badge\/[A-Za-z0-9]+\.svg|logo\/[A-Za-z0-9_-]+\.png|brand\/[0-9A-Fa-f]+\.css))"/g;
var PRECACHED = {};
// Static files are named by their content (app.<hash>.css). A page kept offline from before a
// deploy names the old hashes: offline, it gets today's file of the same plain name.
var FINGERPRINT = /\.[0-9a-f]{12}(\.[^./]+)$/;
var BY_PLAIN_NAME = {};
CONFIG.precache.forEach(function (url) {
  PRECACHED[url] = true;
  BY_PLAIN_NAME[url.replace(FINGERPRINT, "$1")] = url;
});

// A server without this release's files (one not yet deployed, in a rolling deploy) answers a
// content-hashed name it does not know with its own file, marked so (kithmeet/static_files.py
// STALE_HEADER). Kept, those bytes would be served under the new name until the next release.
var STALE_HEADER = "X-Kithmeet-Stale-Name";

self.addEventListener("install", function (event) {
  // Every file fetched and checked before any is kept, as cache.addAll does: a failed install
  // leaves the worker in charge as it was, and the browser installs this one on a later visit.
  event.waitUntil(Promise.all(CONFIG.precache.map(function (url) {
    // Without cookies: the shell (the offline page too) is the same for everyone.
    return fetch(new Request(url, { credentials: "omit" })).then(function (response) {
      if (!response.ok || response.headers.get(STALE_HEADER)) throw new Error("not this release's " + url);
      return [url, response];
    });
  })).then(function (answers) {
    return caches.open(SHELL).then(function (cache) {
      return Promise.all(answers.map(function (answer) { return cache.put(answer[0], answer[1]); }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("kithmeet-shell-") === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  } else if (PRECACHED[url.pathname] && !url.search) {
    event.respondWith(caches.match(url.pathname, { cacheName: SHELL }).then(function (cached) {
      return cached || fetch(request);
    }));
  } else if (url.pathname.indexOf("/static/") === 0 && BY_PLAIN_NAME[url.pathname.replace(FINGERPRINT, "$1")]) {
    var current = BY_PLAIN_NAME[url.pathname.replace(FINGERPRINT, "$1")];
    event.respondWith(fetch(request).catch(function () {
      return caches.match(current, { cacheName: SHELL }).then(function (cached) { return cached || Response.error(); });
    }));
  } else if (BADGE_PARTS.test(url.pathname)) {
    // The badge's QR (and look): from the network when there is one, else the badge page's copy.
    event.respondWith(fetch(request).catch(function () {
      return personalCopy(url.pathname).then(function (copy) { return copy || Response.error(); });
    }));
  }
});

function navigate(event, url) {
  return fetch(event.request).then(function (response) {
    event.waitUntil(remember(url, response.clone()));
    return response;
  }, function () {
    var kind = KEPT[url.pathname];
    return (kind ? personalCopy(url.pathname) : Promise.resolve(null)).then(function (copy) {
      return copy || caches.match(CONFIG.offlinePage, { cacheName: SHELL });
    }).then(function (page) {
      return page || new Response("You're offline.", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  });
}

// Keep a page from the network, if it is one of a signed-in person's kept pages; and drop
// the copies of anyone the page does not name.
function remember(url, response) {
  if (response.type !== "basic" || (response.headers.get("Content-Type") || "").indexOf("text/html") !== 0 ||
      response.status >= 500) {
    return Promise.resolve();
  }
  var owner = response.headers.get(CONFIG.ownerHeader);
  return forgetAllBut(owner).then(function () {
    var kind = KEPT[url.pathname];
    if (!owner || !kind || url.search || response.status !== 200 || response.redirected) return null;
    return response.text().then(function (html) {
      var headers = new Headers(response.headers);
      headers.delete("Content-Length");
      headers.delete("Content-Encoding");
      // Marked on the <html> element (offline.js shows when, and makes it read-only); the
      // page's own headers, its strict CSP included, go with it.
      var marked = html.replace(/<html\b/i, '<html data-offline-copy="' + new Date().toISOString() + '"' +
                                (kind === "live" ? " data-offline-live" : ""));
      return caches.open(PEOPLE + owner).then(function (cache) {
        var kept = [cache.put(url.pathname, new Response(marked, { status: 200, headers: headers }))];
        var parts = url.pathname === "/badge" ? html.match(BADGE_PART_LINKS) || [] : [];
        parts.forEach(function (link) {
          var path = link.slice(link.indexOf('"') + 1, -1);
          kept.push(fetch(path, { credentials: "omit" }).then(function (part) {
            return part.ok ? cache.put(path, part) : null;
          }, function () { return null; }));
        });
        return Promise.all(kept);
      });
    });
  });
}

function forgetAllBut(owner) {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PEOPLE) === 0 && name !== PEOPLE + owner;
    }).map(function (name) { return caches.delete(name); }));
  });
}

// The one signed-in person's copy of `path`. Two people's copies can only both be here if a
// sign-out happened without this worker (a page loaded bypassing it): then neither is shown.
function personalCopy(path) {
  return caches.keys().then(function (names) {
    var people = names.filter(function (name) { return name.indexOf(PEOPLE) === 0; });
    if (people.length !== 1) return null;
    return caches.open(people[0]).then(function (cache) { return cache.match(path); });
  }).then(function (copy) { return copy || null; });
}

// A page asks for the copies this person must have and does not yet: the badge and the
// scanner work offline even if they were never opened here with a network. Such a fetch says
// so (CONFIG.warmHeader): nobody reads it, so the server leaves a flashed message waiting for
// the next page the person opens.
var WARM = ["/badge", "/scan"];
var WARM_HEADERS = {};
WARM_HEADERS[CONFIG.warmHeader] = "1";
function warm(owner) {
  return Promise.all(WARM.map(function (path) {
    return caches.match(path, { cacheName: PEOPLE + owner }).then(function (copy) {
      if (copy) return null;
      return fetch(path, { credentials: "same-origin", redirect: "manual",
                           headers: WARM_HEADERS }).then(function (response) {
        // Only a page naming this same person is kept: the session may have changed since.
        if (response.headers.get(CONFIG.ownerHeader) !== owner) return null;
        return remember(new URL(path, self.location.origin), response);
      }, function () { return null; });
    });
  }));
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "warm" && typeof data.owner === "string" && /^[0-9a-f]{32}$/.test(data.owner)) {
    event.waitUntil(warm(data.owner));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "kithmeet-scans") return;
  event.waitUntil(self.kithmeetQueue.flush().then(function (result) {
    // Still queued: failing the event asks the browser to try again later.
    if (result.kept && !event.lastChance) throw new Error("scans still queued");
  }));
});
