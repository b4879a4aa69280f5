// "Björn connected with you": while the home or badge page is in view, ask every few seconds
// whether someone new connected with this person, and say so in the page's live region with a
// link to the connection. Polling, not a held-open connection: an idle phone costs the server
// nothing between checks. Without this the page is right as loaded (its banner counts them).
(function () {
  "use strict";
  var region = document.querySelector("[data-news-url]");
  if (!region || !window.fetch) return;
  var url = region.getAttribute("data-news-url");
  var token = region.getAttribute("data-news-token");
  var every = (parseInt(region.getAttribute("data-news-every"), 10) || 3) * 1000;
  var wait = every;
  // What the page already tells (the banner the server drew): only what comes after is news.
  var banner = document.querySelector('[data-state="unseen-connections"]');
  var count = banner ? parseInt(banner.getAttribute("data-count"), 10) || 0 : 0;
  var latest = null; // the newest unseen connection's public id, once known
  var etag = null, timer = null, busy = false, stopped = false;

  function show(news) {
    var link = document.createElement("a");
    var name = document.createElement("bdi");
    link.href = news.latest.url;
    // textContent: a name is the other person's own words, never markup.
    name.textContent = news.latest.name || "Someone";
    link.appendChild(name);
    link.appendChild(document.createTextNode(" connected with you — add what you talked about"));
    var notice = document.createElement("p");
    notice.className = "consent-banner news-notice";
    notice.setAttribute("data-state", "news-notice");
    notice.setAttribute("data-connection", news.latest.connection);
    notice.appendChild(link);
    while (region.firstChild) region.removeChild(region.firstChild);
    region.appendChild(notice);
  }

  function apply(news) {
    var rose = news.count > count;
    // The same count with another newest one: one was seen while another arrived.
    var replaced = latest !== null && news.latest && news.latest.connection !== latest && news.count >= count;
    if (news.latest && (rose || replaced)) show(news);
    count = news.count;
    latest = news.latest ? news.latest.connection : "";
  }

  function idle() {
    // Hidden, or the phone knows it has no network: ask again on "visibilitychange" or "online".
    return document.hidden || navigator.onLine === false;
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && !idle()) timer = window.setTimeout(check, wait);
  }

  function check() {
    if (busy || stopped || idle()) return;
    busy = true;
    var headers = {"Accept": "application/json", "X-Kithmeet-News": token};
    if (etag) headers["If-None-Match"] = etag;
    // The token says who is asking: no cookie, so the server reads no session either.
    window.fetch(url, {headers: headers, credentials: "omit", cache: "no-store"})
      .then(function (response) {
        if (response.status === 401) stopped = true; // signed out everywhere, or open too long
        if (response.status === 304 || !response.ok) {
          wait = response.status === 304 ? every : Math.min(wait * 2, 60000);
          return null;
        }
        wait = every;
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (news) { if (news) apply(news); },
            function () { wait = Math.min(wait * 2, 60000); }) // no answer: try again, less often
      .then(function () {
        busy = false;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) window.clearTimeout(timer);
    else check();
  });
  window.addEventListener("online", function () {
    wait = every;
    check();
  });
  check();
})();
