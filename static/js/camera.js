// The scanner's camera (/scan): the rear camera, a QR reader on it, a read every FRAME_GAP ms
// (a badge read buzzes and beeps), and the torch. It knows which codes are badges only through
// the page's `badge` function, so that one held up is read once; what a read means, and every
// word shown, is scanner.js's. Loaded before scanner.js (both deferred), which uses
// window.kithmeetCamera; split from it so neither grows past what one can read at once.
(function () {
  "use strict";

  var SAME_BADGE_PAUSE = 5000; // ms a badge must be out of view before it is read again
  var NOT_OURS_PAUSE = 3000;   // ms before the same foreign QR is reported again
  var FRAME_GAP = 120;         // ms between reads: quick enough, and the phone stays cool

  var audio = null;

  // Feedback that a badge was read: a short buzz and a beep (no sound file: an oscillator).
  function feedback() {
    if (navigator.vibrate) navigator.vibrate(60);
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.09);
    } catch (e) { /* no sound is fine */ }
  }

  // What a failed getUserMedia (or a missing reader) means to the person: allowed, present, usable.
  function problemCode(error) {
    var name = error && error.name;
    return name === "NotAllowedError" || name === "SecurityError" ? "camera_refused"
      : name === "NotFoundError" || name === "OverconstrainedError" ? "camera_absent" : "camera_unavailable";
  }

  // The .wasm comes from our static files, never the package's default CDN.
  function loadPolyfill(ponyfill, wasmPath) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = ponyfill;
      script.onload = function () {
        var api = window.BarcodeDetectionAPI;
        if (!api) { reject(new Error("no polyfill")); return; }
        var wasm = new URL(wasmPath, window.location.href).href;
        api.prepareZXingModule({
          overrides: {
            locateFile: function (path, prefix) { return path.endsWith(".wasm") ? wasm : prefix + path; }
          }
        });
        resolve(api.BarcodeDetector);
      };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  // create(options) -> {start, stop, running, torch}. options:
  //   root     the element whose data-ponyfill and data-wasm say where the vendored reader is;
  //            the camera marks on it which reader ran (data-reader: the tests read it) and
  //            data-paused while the page is hidden
  //   video    the <video> the camera plays in
  //   badge    text -> a badge's token, or null: the same badge is read once while in view
  //   onRead(text, token)   a code come into view (token null: not one of our badges; a badge
  //            has buzzed already, so the read is felt before the server answers)
  //   onStarting(), onReady({torch}), onStopped(), onProblem(code)
  //            code: camera_refused, camera_absent or camera_unavailable
  function create(options) {
    var root = options.root, video = options.video;
    var stream = null, detector = null, isRunning = false, timer = null;
    var seen = {}, lastForeign = { text: null, at: 0 };
    // Which reader ran ("native" or "polyfill"): the tests read it to know the polyfill path ran.
    root.dataset.reader = "none";

    // A badge held up is read once, until it's been away a while; a foreign QR is said once
    // while it stays in view. Typed codes never pass here: only the camera sees a code twice.
    function read(text) {
      var token = options.badge(text);
      var now = Date.now();
      if (!token) {
        var again = text === lastForeign.text && now - lastForeign.at < NOT_OURS_PAUSE;
        lastForeign = { text: text, at: now };
        if (!again) options.onRead(text, null);
        return;
      }
      var before = seen[token];
      seen[token] = now; // still in view
      if (before && now - before < SAME_BADGE_PAUSE) return;
      Object.keys(seen).forEach(function (key) { if (now - seen[key] >= SAME_BADGE_PAUSE) delete seen[key]; });
      feedback();
      options.onRead(text, token);
    }

    function tick() {
      if (!isRunning) return;
      var next = function () { if (isRunning) timer = window.setTimeout(tick, FRAME_GAP); };
      if (video.readyState < 2) { next(); return; }
      detector.detect(video).then(function (codes) {
        codes.forEach(function (code) { read(code.rawValue); });
      }, function () { /* a frame that can't be read: try the next */ }).then(next);
    }

    // Native BarcodeDetector where the browser has one that reads QR (Chrome on Android),
    // else the vendored polyfill (zxing-wasm), loaded only then.
    function makeDetector() {
      var native = window.BarcodeDetector;
      var check = native && native.getSupportedFormats ? native.getSupportedFormats() : Promise.resolve([]);
      return check.catch(function () { return []; }).then(function (formats) {
        if (formats.indexOf("qr_code") >= 0) {
          root.dataset.reader = "native";
          return new native({ formats: ["qr_code"] });
        }
        return loadPolyfill(root.dataset.ponyfill, root.dataset.wasm).then(function (Polyfill) {
          root.dataset.reader = "polyfill";
          return new Polyfill({ formats: ["qr_code"] });
        });
      });
    }

    function torchTrack() {
      var track = stream && stream.getVideoTracks()[0];
      var capabilities = track && track.getCapabilities ? track.getCapabilities() : {};
      return capabilities.torch ? track : null;
    }

    function start() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        options.onProblem(problemCode({ name: "NotSupportedError" }));
        return;
      }
      options.onStarting();
      navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }
      }).then(function (media) {
        stream = media;
        video.srcObject = media;
        return video.play().catch(function () {}).then(function () {
          return detector ? detector : makeDetector().then(function (made) { detector = made; return made; });
        }).then(function () {
          isRunning = true;
          options.onReady({ torch: Boolean(torchTrack()) });
          tick();
        }, function () {
          stop();
          options.onProblem(problemCode({ name: "NoReader" }));
        });
      }, function (error) { options.onProblem(problemCode(error)); });
    }

    function stop() {
      isRunning = false;
      window.clearTimeout(timer);
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.srcObject = null;
      options.onStopped();
    }

    // Resolves when the light is as asked; rejects where the track refused it.
    function torch(on) {
      var track = torchTrack();
      if (!track) return Promise.reject(new Error("no torch"));
      return track.applyConstraints({ advanced: [{ torch: on }] });
    }

    // A phone that locks or switches apps: let the camera go, take it back on return.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && isRunning) {
        stop();
        root.dataset.paused = "1";
      } else if (document.visibilityState === "visible" && root.dataset.paused) {
        delete root.dataset.paused;
        start();
      }
    });

    return { start: start, stop: stop, running: function () { return isRunning; }, torch: torch };
  }

  window.kithmeetCamera = { create: create };
})();
