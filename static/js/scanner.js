// The in-page scanner (/scan): what a read means. Each badge QR the camera (static/js/camera.js,
// loaded first) reads, one after another, or a typed code connects at once through
// POST /api/v1/scans, or waits in the scan queue when that gets no answer. No framework; the
// page's typed-code form works without this file (it opens the badge's page instead).
(function () {
  "use strict";

  var root = document.getElementById("scanner");
  if (!root) return;

  var TOKEN = /^[2-9A-HJKMNP-Z]{10,11}$/; // kithmeet/tokens.py ALPHABET, badge or event length

  var cameraView = root.querySelector(".scanner-view");
  var video = root.querySelector(".scanner-video");
  var statusLine = document.getElementById("scanner-status");
  var cameraProblem = document.getElementById("camera-problem");
  var cameraToggle = document.getElementById("camera-toggle");
  var torchToggle = document.getElementById("torch-toggle");
  var result = document.getElementById("scan-result");
  var outcome = document.getElementById("scan-outcome");
  var card = document.getElementById("scan-card");
  var queued = document.getElementById("scan-queued");
  var talkedForm = document.getElementById("talked-form");
  var talkedInput = document.getElementById("talked-about");
  var talkedError = document.getElementById("talked-about-error");
  var undoButton = document.getElementById("undo-scan");
  var resultLink = document.getElementById("result-link");
  var typedForm = document.getElementById("typed-form");
  var typedInput = typedForm.querySelector("input[name=code]");

  var current = null; // {clientId, badge} of the scan the result card shows

  // Badge QRs carry HTTPS://HOST/B/TOKEN in capitals (kithmeet/badges/qr.py); hosts compare
  // without case, the path's /B/ too. The page's own host and the configured one both count.
  var hosts = [window.location.host.toLowerCase()];
  try { hosts.push(new URL(root.dataset.badgeBase).host.toLowerCase()); } catch (e) { /* none set */ }

  function badgeToken(text) {
    var url;
    try { url = new URL(String(text).trim()); } catch (e) { return null; }
    if (!/^https?:$/.test(url.protocol) || hosts.indexOf(url.host.toLowerCase()) < 0) return null;
    var match = /^\/B\/([^/]+)\/?$/i.exec(url.pathname);
    if (!match || url.search || url.hash) return null;
    var token = match[1].toUpperCase();
    return TOKEN.test(token) ? token : null;
  }

  function grouped(code) { return code.replace(/(.{4})(?=.)/g, "$1 "); }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) return meta.getAttribute("content");
    var field = typedForm.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
  }

  // This page's token may be older than the session: a sign-in since, in another tab or on this
  // page's copy kept for offline use, gave the session a new one. Ask the scan queue who is
  // signed in now: the same person (by owner key) means a token to send with; anyone else, or
  // nobody, means none (this page's scans are not theirs to send).
  function freshToken() {
    var owner = document.querySelector('meta[name="kithmeet-owner"]');
    if (!queue() || !owner) return Promise.resolve(false);
    return queue().session().then(function (state) {
      if (!state.csrf_token || state.owner !== owner.getAttribute("content")) return false;
      var meta = document.querySelector('meta[name="csrf-token"]');
      if (meta) meta.setAttribute("content", state.csrf_token);
      var field = typedForm.querySelector("input[name=csrf_token]");
      if (field) field.value = state.csrf_token;
      return true;
    }, function () { return false; });
  }

  // Resolves to {status, body}; rejects only when the network failed (no answer at all). A
  // token refused as expired is renewed and the same body sent once more: its client id makes
  // the server record it once, however often it arrives.
  function post(path, payload, renewed) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        var answer = { status: response.status, body: body };
        if (renewed || response.status !== 400 || !body.error || body.error.code !== "csrf") return answer;
        return freshToken().then(function (fresh) { return fresh ? post(path, payload, true) : answer; });
      });
    });
  }

  function refusal(answer) {
    var error = (answer.body && answer.body.error) || {};
    return { code: error.code || "error_" + answer.status, message: error.message || "That didn't work. Try again." };
  }

  // A server that can't answer now (down, overloaded, limiting, or a race it asks us to retry)
  // is treated like no network: the queue keeps the scan and sends it later, as it does with
  // its own retries (scan-queue.js NOT_NOW).
  function unreachable(answer) {
    var error = (answer.body && answer.body.error) || {};
    return answer.status >= 500 || answer.status === 429 || error.code === "conflict";
  }

  function say(text, state) {
    statusLine.textContent = text;
    statusLine.dataset.state = state;
  }

  // --- The result card -------------------------------------------------------------------

  function show(node, visible) { node.hidden = !visible; }

  function setOutcome(text, attrs) {
    outcome.textContent = text;
    outcome.className = "scanner-outcome " + (attrs.code ? "flash flash-error" : "flash flash-success");
    if (attrs.code) outcome.dataset.code = attrs.code; else delete outcome.dataset.code;
    outcome.dataset.state = attrs.state;
  }

  function fillCard(person) {
    document.getElementById("result-name").textContent = person.name || "";
    var headline = document.getElementById("result-headline");
    headline.textContent = person.headline || "";
    show(headline, Boolean(person.headline));
    var prompts = document.getElementById("result-prompts");
    prompts.textContent = "";
    (person.prompts || []).forEach(function (prompt) {
      var row = document.createElement("div");
      var label = document.createElement("dt");
      var answer = document.createElement("dd");
      label.textContent = prompt.label;
      answer.textContent = prompt.answer;
      answer.dir = "auto";
      row.appendChild(label);
      row.appendChild(answer);
      prompts.appendChild(row);
    });
    show(prompts, prompts.children.length > 0);
    show(card, true);
  }

  function resetResult() {
    show(result, true);
    show(card, false);
    show(queued, false);
    show(talkedForm, false);
    show(undoButton, false);
    show(resultLink, false);
    talkedInput.value = "";
    clearTalkedError();
    undoButton.disabled = false;
  }

  function connected(answer, scan) {
    var body = answer.body;
    resetResult();
    fillCard(body.person || {});
    var name = (body.person && body.person.name) || "them";
    var created = body.scan && body.scan.created;
    setOutcome(created ? "✓ Connected" : "✓ Connected (you were already)", { state: "connected" });
    say("Connected with " + name + ". Ready for the next badge.", "connected");
    current = scan;
    show(talkedForm, true);
    show(undoButton, true);
    var connection = body.connection || {};
    var link = connection.url || (connection.id ? "/followup/" + encodeURIComponent(connection.id) : "");
    if (link) {
      resultLink.href = link;
      show(resultLink, true);
    }
  }

  function refused(problem) {
    resetResult();
    setOutcome(problem.message, { code: problem.code, state: "refused" });
    say("That badge didn't connect. Ready for the next badge.", "refused");
    current = null;
  }

  function queue() { return window.kithmeetQueue; }

  function pendingText(count) {
    return count === 1 ? "1 scan waiting to connect." : count + " scans waiting to connect.";
  }

  var pendingCount = document.createElement("span");
  pendingCount.id = "scan-pending";

  function showPending(count) {
    pendingCount.dataset.pending = String(count);
    pendingCount.textContent = count ? pendingText(count) : "Every saved scan has been sent.";
  }

  // The queue tells every page when it changes (a scan saved, a sync done): keep the count true.
  window.addEventListener("kithmeet:queue", function (event) {
    if (!queued.hidden && event.detail) showPending(event.detail.pending);
  });

  function saveForLater(scan) {
    var store = queue();
    if (!store) {
      refused({ code: "offline", message: "You're offline, and this phone can't keep scans for later. Try again when you're back online." });
      return Promise.resolve();
    }
    return store.add({ client_id: scan.clientId, badge: scan.badge, talked_about: "", scanned_at: scan.scannedAt })
      .then(function () {
        resetResult();
        current = null;
        setOutcome("Saved — will connect when you're back online", { state: "queued" });
        queued.textContent = "Badge " + (scan.code ? grouped(scan.code) : scan.badge) + ". ";
        queued.appendChild(pendingCount);
        show(queued, true);
        say("Saved for later. Ready for the next badge.", "queued");
        return store.pending().then(showPending, function () {});
      }, function () {
        refused({ code: "not_saved", message: "This scan couldn't be saved on the phone. Try again." });
      });
  }

  // One scan: a fresh client id and the device's time, so a resend or a later sync records once
  // and counts where and when it was made. `code` is the token when it is known.
  function scanBadge(badge, code) {
    var scan = { clientId: uuid(), badge: badge, code: code, scannedAt: new Date().toISOString() };
    if (navigator.onLine === false) return saveForLater(scan);
    say("Connecting…", "busy");
    return post("/api/v1/scans", { client_id: scan.clientId, badge: scan.badge, scanned_at: scan.scannedAt })
      .then(function (answer) {
        if (answer.status >= 200 && answer.status < 300) connected(answer, scan);
        else if (unreachable(answer)) return saveForLater(scan);
        else return Promise.reject(refusal(answer));
      }, function () { return saveForLater(scan); });
  }

  // --- The camera (static/js/camera.js) ----------------------------------------------------

  // What a read means: camera.js hands over each code once while it stays in view.
  function onRead(text, token) {
    if (!token) {
      resetResult();
      current = null;
      setOutcome("That QR code isn't a kithmeet badge.", { code: "not_a_badge", state: "refused" });
      say("That QR code isn't a kithmeet badge.", "not-a-badge");
      return;
    }
    scanBadge(token, token).catch(refused);
  }

  var CAMERA_PROBLEMS = {
    camera_refused: "The camera isn't allowed for this page. Type the badge code below instead, or allow the camera in your browser's settings and reload.",
    camera_absent: "No camera was found. Type the badge code below instead.",
    camera_unavailable: "The camera can't be used here. Type the badge code below instead."
  };

  function cameraRefused(code) {
    cameraProblem.textContent = CAMERA_PROBLEMS[code];
    cameraProblem.dataset.code = code;
    show(cameraProblem, true);
    show(cameraView, false); // a black box is no use: the typed code moves up
    show(cameraToggle, false);
    say("Type a badge code instead.", "no-camera");
    typedInput.focus();
  }

  // A copy of this page kept offline from before camera.js existed loads only this file: it
  // still connects typed codes, as on a phone without a camera.
  var camera = window.kithmeetCamera ? window.kithmeetCamera.create({
    root: root,
    video: video,
    badge: badgeToken,
    onRead: onRead,
    onStarting: function () { say("Starting the camera…", "starting"); },
    onReady: function (can) {
      show(cameraProblem, false);
      show(cameraView, true);
      cameraToggle.textContent = "Stop camera";
      show(cameraToggle, true);
      show(torchToggle, can.torch);
      say("Point your camera at someone's badge.", "ready");
    },
    onStopped: function () {
      show(torchToggle, false);
      cameraToggle.textContent = "Start camera";
      say("Camera off.", "stopped");
    },
    onProblem: cameraRefused
  }) : null;

  cameraToggle.addEventListener("click", function () {
    if (camera.running()) camera.stop(); else camera.start();
  });

  torchToggle.addEventListener("click", function () {
    var on = torchToggle.getAttribute("aria-pressed") !== "true";
    camera.torch(on).then(function () {
      torchToggle.setAttribute("aria-pressed", on ? "true" : "false");
    }, function () {});
  });

  // --- The words, Undo and the typed code -------------------------------------------------

  function clearTalkedError() {
    talkedError.textContent = "";
    show(talkedError, false);
    delete talkedError.dataset.code;
    talkedInput.removeAttribute("aria-invalid");
    talkedInput.setAttribute("aria-describedby", "talked-about-hint");
  }

  talkedForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var words = talkedInput.value.trim();
    if (!current || !words) return;
    clearTalkedError();
    // The same client id again, now with words: the service adds them to this scan's connection.
    post("/api/v1/scans", { client_id: current.clientId, badge: current.badge, talked_about: words,
                            scanned_at: current.scannedAt })
      .then(function (answer) {
        if (answer.status >= 200 && answer.status < 300) {
          talkedInput.value = "";
          setOutcome("✓ Connected — added what you talked about", { state: "talked-about-added" });
          say("Added what you talked about.", "talked-about-added");
          return;
        }
        var problem = refusal(answer);
        talkedError.textContent = problem.message;
        talkedError.dataset.code = problem.code;
        show(talkedError, true);
        talkedInput.setAttribute("aria-invalid", "true");
        talkedInput.setAttribute("aria-describedby", "talked-about-hint talked-about-error");
        talkedInput.focus();
      }, function () {
        talkedError.textContent = "No connection to the server. Try again in a moment.";
        talkedError.dataset.code = "offline";
        show(talkedError, true);
      });
  });

  undoButton.addEventListener("click", function () {
    if (!current) return;
    undoButton.disabled = true;
    post("/api/v1/scans/" + encodeURIComponent(current.clientId) + "/undo").then(function (answer) {
      if (answer.status >= 200 && answer.status < 300) {
        show(talkedForm, false);
        show(undoButton, false);
        show(resultLink, false);
        setOutcome("Undone: this scan no longer connects you.", { state: "undone" });
        say("Scan undone. Ready for the next badge.", "undone");
        current = null;
        result.focus(); // the button it was on is gone
      } else {
        var problem = refusal(answer);
        setOutcome(problem.message, { code: problem.code, state: "refused" });
        undoButton.disabled = false;
      }
    }, function () {
      setOutcome("No connection to the server: the scan wasn't undone. Try again.", { code: "offline", state: "refused" });
      undoButton.disabled = false;
    });
  });

  function typedError(problem) {
    var field = typedInput.closest(".field");
    var error = document.getElementById("code-error");
    if (!error) {
      error = document.createElement("p");
      error.className = "error";
      error.id = "code-error";
      typedInput.parentNode.insertBefore(error, typedInput);
    }
    error.textContent = problem.message;
    error.dataset.code = problem.code;
    error.setAttribute("role", "alert");
    field.classList.add("has-error");
    typedInput.setAttribute("aria-invalid", "true");
    var described = (typedInput.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf("code-error") < 0) described.push("code-error");
    typedInput.setAttribute("aria-describedby", described.join(" "));
    typedInput.focus();
  }

  function clearTypedError() {
    var error = document.getElementById("code-error");
    if (error) error.remove();
    typedInput.closest(".field").classList.remove("has-error");
    typedInput.removeAttribute("aria-invalid");
    var described = (typedInput.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== "code-error";
    });
    if (described.length) typedInput.setAttribute("aria-describedby", described.join(" "));
    else typedInput.removeAttribute("aria-describedby");
  }

  typedForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = typedInput.value.trim();
    // As the server reads it (urls.badge_token_from): a pasted link to one of our badges, or
    // the code in any case with spaces or dashes. A link anywhere else is not a code.
    var looksLikeLink = /^[a-z][a-z0-9+.\-]*:/i.test(text);
    var code = looksLikeLink ? (badgeToken(text) || "") : text.toUpperCase().replace(/[\s\-_.]/g, "");
    if (!text) {
      typedError({ code: "required", message: "Type the code printed under the QR." });
      return;
    }
    if (!TOKEN.test(code)) {
      typedError({ code: "bad_code", message: "A badge code has 11 letters and digits, like K7QM 4XTR 9PA." });
      return;
    }
    clearTypedError();
    scanBadge(code, code).then(function () {
      typedInput.value = "";
      result.focus();
    }, typedError);
  });

  root.dataset.ready = "1";
  if (camera) camera.start(); else cameraRefused("camera_unavailable");
})();
