// The scan queue: scans made without a network, kept on this phone (IndexedDB) until they can be
// sent. Loaded by a signed-in person's pages and by the service worker (importScripts): both see
// the same queue. Each scan keeps its client id, so one sent twice (a retry, a second tab, the
// worker and a page at once, a replayed copy) records once on the server.
(function (scope) {
  "use strict";
  if (scope.kithmeetQueue) return; // the scanner page may load it a second time

  var DB_NAME = "kithmeet-queue";
  var SCANS = "scans";
  var REFUSED = "refused";
  var API = "/api/v1/scans";
  var SESSION = "/api/v1/session";
  var LOCK = "kithmeet-scan-queue";
  var SYNC_TAG = "kithmeet-scans";
  // Refusals that mean "not now" rather than "never" (an expired form token, signed out in the
  // meantime, a limit, a server not yet updated, a race lost to another write such as this
  // person's Undo of a scan-back): the scan stays queued for the next try.
  var NOT_NOW = ["csrf", "rate_limited", "sign_in_required", "forbidden", "not_found", "method_not_allowed",
                 "server_error", "conflict"];
  var isPage = typeof document !== "undefined";
  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("kithmeet-queue") : null;
  var opening = null;
  var flushing = null;

  function noop() {}

  function open() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var db = request.result;
          db.createObjectStore(SCANS, { keyPath: "client_id" }).createIndex("owner", "owner");
          db.createObjectStore(REFUSED, { keyPath: "client_id" }).createIndex("owner", "owner");
        };
        request.onsuccess = function () {
          var db = request.result;
          db.onversionchange = function () { db.close(); opening = null; };
          resolve(db);
        };
        request.onerror = function () { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  // One IndexedDB transaction over `stores`; `work(tx)` may return a request whose result the
  // promise resolves to once the transaction has committed (not before: a tab that reads
  // straight after must see the write).
  function run(stores, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(stores, mode);
        var request = work(tx);
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  // The page's person (base.html's meta); the worker has no page and asks the server instead.
  function pageOwner() {
    if (!isPage) return null;
    var meta = document.querySelector('meta[name="kithmeet-owner"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function mine(store, owner) {
    return owner ? store.index("owner").getAll(owner) : store.getAll();
  }

  function uuid() {
    if (scope.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
  }

  // Tell this page and every other (tabs, the worker) that the queue changed.
  function changed() {
    if (channel) channel.postMessage("changed");
    announce();
  }

  function announce() {
    if (!isPage) return;
    pending().then(function (count) {
      scope.dispatchEvent(new CustomEvent("kithmeet:queue", { detail: { pending: count } }));
    }, noop);
  }

  if (channel && isPage) channel.onmessage = announce;

  // Background Sync where the browser has it: the worker sends the queue when the network is
  // back, even after this page is closed.
  function requestSync() {
    if (!isPage || !navigator.serviceWorker || !("SyncManager" in scope)) return;
    navigator.serviceWorker.getRegistration().then(function (registration) {
      return registration && registration.sync.register(SYNC_TAG);
    }).catch(noop);
  }

  function add(scan) {
    var owner = pageOwner();
    scan = scan || {};
    var entry = {
      client_id: String(scan.client_id || uuid()),
      owner: owner,
      badge: String(scan.badge || "").trim(),
      talked_about: String(scan.talked_about || ""),
      scanned_at: scan.scanned_at || new Date().toISOString(),
      added_at: new Date().toISOString()
    };
    if (!owner) return Promise.reject(new Error("Only a signed-in person's scans are kept."));
    if (!entry.badge) return Promise.reject(new Error("A scan needs a badge."));
    return run([SCANS], "readwrite", function (tx) {
      var store = tx.objectStore(SCANS);
      var known = store.get(entry.client_id);
      known.onsuccess = function () {
        var before = known.result;
        if (before && before.owner !== owner) return; // a client id is its maker's alone
        if (before) {
          // The same scan again (words typed after it was saved): it keeps its badge and time.
          entry.badge = before.badge;
          entry.scanned_at = before.scanned_at;
          entry.added_at = before.added_at;
          entry.talked_about = entry.talked_about || before.talked_about;
        }
        store.put(entry);
      };
    }).then(function () {
      changed();
      requestSync();
      return { client_id: entry.client_id, badge: entry.badge, talked_about: entry.talked_about,
               scanned_at: entry.scanned_at };
    });
  }

  // A scan not sent yet, taken back (the scanner's Undo): it is simply never sent.
  function remove(clientId) {
    var owner = pageOwner();
    return run([SCANS], "readwrite", function (tx) {
      var store = tx.objectStore(SCANS);
      var known = store.get(String(clientId));
      known.onsuccess = function () {
        if (known.result && known.result.owner === owner) store.delete(known.result.client_id);
      };
    }).then(changed);
  }

  function pending() {
    return run([SCANS], "readonly", function (tx) {
      var store = tx.objectStore(SCANS);
      var owner = pageOwner();
      return owner ? store.index("owner").count(owner) : store.count();
    });
  }

  function refused() {
    return run([REFUSED], "readonly", function (tx) {
      return mine(tx.objectStore(REFUSED), pageOwner());
    }).then(function (entries) {
      entries.sort(function (a, b) { return a.scanned_at < b.scanned_at ? -1 : 1; });
      return entries.map(function (entry) {
        return { client_id: entry.client_id, badge: entry.badge, code: entry.code, message: entry.message,
                 scanned_at: entry.scanned_at };
      });
    });
  }

  function dismissRefused() {
    var owner = pageOwner();
    return run([REFUSED], "readwrite", function (tx) {
      var store = tx.objectStore(REFUSED);
      var all = mine(store, owner);
      all.onsuccess = function () {
        all.result.forEach(function (entry) { store.delete(entry.client_id); });
      };
    }).then(changed);
  }

  // Who is signed in now, and a fresh CSRF token: the page's meta may be a stale copy, and the
  // worker has no page at all.
  function session() {
    return fetch(SESSION, { credentials: "same-origin", cache: "no-store", redirect: "error",
                            headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("no session answer");
        return response.json();
      });
  }

  // One scan to the API. "synced": the server has it (now, or already: a repeat of the client
  // id; or the scan was undone there). "refused": it never will (its code and message are kept
  // for the person). "kept": not now (no network, a server error or limit, signed out).
  function send(entry, token) {
    return fetch(API, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ client_id: entry.client_id, badge: entry.badge, talked_about: entry.talked_about,
                             scanned_at: entry.scanned_at })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        var error = (body && body.error) || {};
        if (response.ok && body && body.scan) return { outcome: "synced" };
        if (response.status === 409 && error.code === "scan_undone") return { outcome: "synced" };
        if (response.status < 400 || response.status >= 500 || response.status === 429 || !error.code ||
            NOT_NOW.indexOf(error.code) >= 0) return { outcome: "kept" };
        return { outcome: "refused", code: error.code, message: error.message || "" };
      });
    }, function () { return { outcome: "kept" }; });
  }

  function settle(entry, answer) {
    return run([SCANS, REFUSED], "readwrite", function (tx) {
      tx.objectStore(SCANS).delete(entry.client_id);
      if (answer.outcome === "refused") {
        tx.objectStore(REFUSED).put({ client_id: entry.client_id, owner: entry.owner, badge: entry.badge,
                                      code: answer.code, message: answer.message, scanned_at: entry.scanned_at,
                                      refused_at: new Date().toISOString() });
      }
    });
  }

  // Send the signed-in person's queued scans, oldest first, one at a time; stop at the first
  // "not now" (the next trigger tries again). Another person's scans on this phone wait for them.
  function sendAll() {
    var result = { synced: 0, refused: 0, kept: 0 };
    return run([SCANS], "readonly", function (tx) { return tx.objectStore(SCANS).getAll(); }).then(function (all) {
      if (!all.length) return result;
      return session().then(function (who) {
        var entries = all.filter(function (entry) { return who.owner && entry.owner === who.owner; });
        entries.sort(function (a, b) { return a.scanned_at < b.scanned_at ? -1 : 1; });
        result.kept = entries.length;
        var index = 0;
        var next = function () {
          if (index >= entries.length) return result;
          var entry = entries[index++];
          return send(entry, who.csrf_token).then(function (answer) {
            if (answer.outcome === "kept") return result;
            result.kept -= 1;
            result[answer.outcome] += 1;
            return settle(entry, answer).then(next);
          });
        };
        return next();
      }, function () {
        var owner = pageOwner();
        result.kept = all.filter(function (entry) { return !owner || entry.owner === owner; }).length;
        return result;
      });
    });
  }

  // One sender at a time across tabs and the worker (Web Locks where present); the client ids
  // make a double harmless anyway, the lock only spares the requests.
  function flush() {
    if (flushing) return flushing;
    var locks = scope.navigator && scope.navigator.locks;
    var work = locks && locks.request ? locks.request(LOCK, sendAll) : sendAll();
    flushing = work.then(function (result) {
      flushing = null;
      if (result.synced || result.refused) changed();
      return result;
    }, function (error) {
      flushing = null;
      throw error;
    });
    return flushing;
  }

  scope.kithmeetQueue = {
    add: add,
    remove: remove,
    pending: pending,
    refused: refused,
    dismissRefused: dismissRefused,
    flush: flush,
    session: session
  };
})(self);
