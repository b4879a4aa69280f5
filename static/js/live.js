// The live dashboard and projector: ask for the night's numbers every few seconds and redraw
// them in place (numbers, chart, its table, the web). Without this the page is right as loaded.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-refresh]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-live-refresh");
  var every = (parseInt(root.getAttribute("data-live-every"), 10) || 5) * 1000;
  var SVG = "http://www.w3.org/2000/svg";
  var status = document.querySelector("[data-live-status]");
  var statusText = status ? status.textContent : "";

  function svg(name, attrs, title) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (title) {
      var label = document.createElementNS(SVG, "title");
      label.textContent = title;
      node.appendChild(label);
    }
    return node;
  }

  function replace(container, nodes) {
    if (!container) return;
    while (container.firstChild) container.removeChild(container.firstChild);
    nodes.forEach(function (node) { container.appendChild(node); });
  }

  function all(selector, each) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), each);
  }

  function apply(data) {
    all("[data-live]", function (node) {
      var value = data[node.getAttribute("data-live")];
      if (value !== undefined) node.textContent = String(value);
    });
    all("[data-live-noun]", function (node) {
      var one = data[node.getAttribute("data-live-noun")] === 1;
      node.textContent = node.getAttribute(one ? "data-one" : "data-many");
    });
    all("[data-live-bars]", function (group) {
      replace(group, data.bars.map(function (bar) {
        return svg("rect", {"class": "live-bar", x: bar.x, y: bar.y, width: bar.width, height: bar.height},
                   "From " + bar.label + ": " + bar.count);
      }));
    });
    all("[data-live-ticks]", function (group) {
      var y = group.ownerSVGElement.viewBox.baseVal.height - 6;
      replace(group, data.bars.filter(function (_, i) { return i % 4 === 0; }).map(function (bar) {
        var tick = svg("text", {"class": "live-tick", x: bar.x, y: y});
        tick.textContent = bar.label;
        return tick;
      }));
    });
    all("[data-live-table]", function (body) {
      replace(body, data.bars.map(function (bar) {
        var row = document.createElement("tr");
        [bar.label, String(bar.count)].forEach(function (text) {
          var cell = document.createElement("td");
          cell.textContent = text;
          row.appendChild(cell);
        });
        return row;
      }));
    });
    all("[data-live-lines]", function (group) {
      replace(group, data.lines.map(function (line) {
        var a = data.dots[line[0]], b = data.dots[line[1]];
        return svg("line", {x1: a[0], y1: a[1], x2: b[0], y2: b[1]});
      }));
    });
    all("[data-live-dots]", function (group) {
      replace(group, data.dots.map(function (dot) { return svg("circle", {cx: dot[0], cy: dot[1], r: 7}); }));
    });
    all("[data-live-web-title]", function (node) {
      var dots = data.dots.length, lines = data.lines.length;
      node.textContent = "The night's web: " + dots + (dots === 1 ? " person" : " people") +
        " as dots, " + lines + (lines === 1 ? " connection" : " connections") + " as lines. No names.";
    });
    if (status) {
      status.textContent = statusText;
      status.removeAttribute("data-state");
    }
  }

  function stale() {
    if (!status) return;
    status.setAttribute("data-state", "stale");
    status.textContent = "Not updated for a moment: trying again.";
  }

  function tick() {
    if (document.hidden) {
      window.setTimeout(tick, every);
      return;
    }
    window.fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(apply)
      .catch(stale)
      .then(function () { window.setTimeout(tick, every); });
  }

  window.setTimeout(tick, every);
})();
