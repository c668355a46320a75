(function () {
  "use strict";
  // -- findings: filters ------------------------------------------------------
  var table = document.getElementById("findings-table");
  var controls = document.querySelectorAll("[data-filter]");
  var count = document.getElementById("f-count");
  var pair = null;  // [vnet key, vnet key] picked by clicking a topology edge
  var pairBox = document.getElementById("f-pair");
  function setPair(keys, label) {
    pair = keys;
    if (pairBox) {
      pairBox.hidden = !keys;
      document.getElementById("f-pair-label").textContent = label || "";
    }
    applyFilters();
  }
  function applyFilters() {
    if (!table) return;
    var want = {};
    controls.forEach(function (c) { want[c.dataset.filter] = c.value.trim().toLowerCase(); });
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], d = r.dataset;
      var ok = (!want.severity || d.severity === want.severity) &&
        (!want.rule || d.rule.toLowerCase() === want.rule) &&
        (!want.sub || d.sub === want.sub) &&
        (!want.vnet || d.vnet.split("|").indexOf(want.vnet) >= 0) &&
        (!want.control || (d.controls || "").split("|").indexOf(want.control) >= 0) &&
        (!want.text || r.textContent.toLowerCase().indexOf(want.text) >= 0) &&
        (!pair || pair.every(function (k) { return d.vnet.split("|").indexOf(k) >= 0; }));
      r.hidden = !ok;
      if (ok) shown++;
    }
    if (count) count.textContent = "Showing " + shown + " of " + rows.length + " findings.";
  }
  var form = document.querySelector("form.filters");
  if (form) form.addEventListener("submit", function (e) { e.preventDefault(); });
  controls.forEach(function (c) { c.addEventListener(c.tagName === "INPUT" ? "input" : "change", applyFilters); });
  var reset = document.getElementById("f-reset");
  if (reset) reset.addEventListener("click", function () { controls.forEach(function (c) { c.value = ""; }); setPair(null); });
  var pairClear = document.getElementById("f-pair-clear");
  if (pairClear) pairClear.addEventListener("click", function () { setPair(null); });

  // -- sortable tables: a button in each sortable header --------------------------
  document.querySelectorAll("table.sortable").forEach(function (t) {
    var heads = t.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var btn = th.querySelector("button");
      if (!btn) return;
      btn.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        Array.prototype.forEach.call(heads, function (h) { if (h.hasAttribute("aria-sort")) h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", dir);
        var numeric = btn.dataset.sort === "num", body = t.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) { var c = r.cells[col]; var v = c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim().toLowerCase(); return numeric ? parseFloat(v) : v; };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), s = x < y ? -1 : x > y ? 1 : 0;
          return dir === "ascending" ? s : -s;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  // -- fix first: a copy button after each az command and full id --------------------------
  // The clipboard API needs permission; without it the text is left selected for Ctrl+C.
  function selectText(el) {
    var range = document.createRange(); range.selectNodeContents(el);
    var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  }
  document.querySelectorAll("code.cmd, .copyable").forEach(function (el) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "copy";
    btn.textContent = "Copy";
    btn.setAttribute("aria-label", el.tagName === "CODE" ? "Copy command" : "Copy id");
    btn.addEventListener("click", function () {
      var text = el.textContent;
      var done = function () { btn.textContent = "Copied"; };
      var fallback = function () {
        selectText(el);
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        if (ok) done(); else btn.textContent = "Selected: press Ctrl+C";
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
    el.insertAdjacentElement("afterend", btn);
  });

  // -- VNet details: expand all, and open everything for printing ---------------------
  var toggle = document.getElementById("vnets-toggle");
  var vnetDetails = function () { return document.querySelectorAll("details.vnet"); };
  if (toggle) toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    vnetDetails().forEach(function (d) { d.open = open; });
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Collapse all" : "Expand all";
  });
  var wasOpen = [];
  window.addEventListener("beforeprint", function () {
    wasOpen = [];
    document.querySelectorAll("details").forEach(function (d) { wasOpen.push([d, d.open]); d.open = true; });
    fit();
  });
  window.addEventListener("afterprint", function () { wasOpen.forEach(function (p) { p[0].open = p[1]; }); });
  // following a link to a VNet opens its details
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") el.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // -- topology: zoom and pan by changing the viewBox --------------------------------
  var svg = document.getElementById("topo");
  var view = null;
  function setView(v) { view = v; if (svg) svg.setAttribute("viewBox", [v.x, v.y, v.w, v.h].map(function (n) { return n.toFixed(1); }).join(" ")); }
  function fit() { if (svg) setView({ x: 0, y: 0, w: +svg.dataset.w, h: +svg.dataset.h }); }
  function zoom(f, cx, cy) {
    var w = Math.min(Math.max(view.w * f, 120), +svg.dataset.w * 4), h = view.h * (w / view.w);
    if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
    setView({ x: cx - (cx - view.x) * (w / view.w), y: cy - (cy - view.y) * (h / view.h), w: w, h: h });
  }
  function toSvg(evt) {
    var p = svg.createSVGPoint(); p.x = evt.clientX; p.y = evt.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  if (svg) {
    fit();
    svg.addEventListener("wheel", function (e) { e.preventDefault(); var p = toSvg(e); zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2, p.x, p.y); }, { passive: false });
    var drag = null, moved = false;
    svg.addEventListener("pointerdown", function (e) { if (e.button !== 0) return; drag = { x: e.clientX, y: e.clientY, v: view }; moved = false; });
    svg.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!moved) { moved = true; svg.setPointerCapture(e.pointerId); svg.classList.add("dragging"); }
      var scale = drag.v.w / svg.getBoundingClientRect().width;
      setView({ x: drag.v.x - dx * scale, y: drag.v.y - dy * scale, w: drag.v.w, h: drag.v.h });
    });
    var end = function () { drag = null; svg.classList.remove("dragging"); };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    svg.addEventListener("click", function (e) { if (moved) { e.preventDefault(); moved = false; } }, true);
    svg.addEventListener("keydown", function (e) {
      var step = view.w / 10, k = e.key;
      if (k === "+" || k === "=") zoom(1 / 1.25);
      else if (k === "-" || k === "_") zoom(1.25);
      else if (k === "0") fit();
      else if (k === "ArrowLeft") setView({ x: view.x - step, y: view.y, w: view.w, h: view.h });
      else if (k === "ArrowRight") setView({ x: view.x + step, y: view.y, w: view.w, h: view.h });
      else if (k === "ArrowUp") setView({ x: view.x, y: view.y - step, w: view.w, h: view.h });
      else if (k === "ArrowDown") setView({ x: view.x, y: view.y + step, w: view.w, h: view.h });
      else return;
      e.preventDefault();
    });
    // -- collapse per subscription: both pictures are in the page; only classes change --------
    var toggles = svg.querySelectorAll("[data-toggle]"), parts = svg.querySelectorAll("[data-g]");
    var expanded = function (g) { var t = svg.querySelector('[data-toggle="' + g + '"]'); return !t || t.getAttribute("aria-expanded") === "true"; };
    function refresh() {
      parts.forEach(function (el) {
        var all = el.dataset.g.split(" ").every(expanded);
        var groupView = el.classList.contains("card") || el.classList.contains("group-edge") || el.classList.contains("edge-label");
        el.classList.toggle("off", groupView ? all : !all);
      });
    }
    function setGroup(t, open) { t.setAttribute("aria-expanded", String(open)); }
    function flip(t) { setGroup(t, t.getAttribute("aria-expanded") !== "true"); refresh(); }
    toggles.forEach(function (t) {
      t.addEventListener("click", function () { flip(t); });
      t.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault(); e.stopPropagation(); flip(t);
      });
    });
    svg.querySelectorAll("[data-card]").forEach(function (c) {  // a click on a summary expands it
      c.addEventListener("click", function () { flip(svg.querySelector('[data-toggle="' + c.dataset.card + '"]')); });
    });
    document.querySelectorAll("[data-groups]").forEach(function (b) {
      b.addEventListener("click", function () {
        var open = b.dataset.groups === "expand";
        toggles.forEach(function (t) { setGroup(t, open); });
        refresh();
      });
    });
    // -- an edge picks its pair of VNets in the findings table ---------------------------
    var pickEdge = function (el) {
      if (!table) return;
      setPair(el.dataset.pair.split("|"), el.dataset.pairLabel);
      document.getElementById("findings").scrollIntoView();
      document.getElementById("f-pair-clear").focus({ preventScroll: true });
    };
    svg.querySelectorAll("[data-pair]").forEach(function (el) {
      el.addEventListener("click", function () { pickEdge(el); });
      el.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault(); e.stopPropagation(); pickEdge(el);
      });
    });
    // -- a finding's "Show path": the VNets a traced flow passes and the lines between them ---------
    var pathBox = document.getElementById("topo-path"), pathFrom = null;
    var nodeOf = {}, edgesOf = {};
    svg.querySelectorAll("[data-node]").forEach(function (el) { nodeOf[el.dataset.node] = el; });
    svg.querySelectorAll("[data-ends]").forEach(function (el) {
      el.dataset.ends.split("|").forEach(function (k) { (edgesOf[k] = edgesOf[k] || []).push(el); });
    });
    var other = function (edge, k) { var ends = edge.dataset.ends.split("|"); return ends[0] === k ? ends[1] : ends[0]; };
    var between = function (a, b) { return (edgesOf[a] || []).filter(function (e) { return other(e, a) === b; }); };
    function links(a, b) {  // the lines from a to b: a peering, or two through a hub or connectivity configuration
      var direct = between(a, b);
      if (direct.length) return direct;
      var found = [];
      (edgesOf[a] || []).forEach(function (e) {
        var middle = other(e, a), onward = between(middle, b);
        if (!found.length && !e.hasAttribute("data-pair") && onward.length) {  // not a peering: a hub or group line
          found = [e, nodeOf[middle], onward[0]];
        }
      });
      return found;
    }
    var lifted = [];  // clean peerings are drawn under the group boxes: lifted above them while on the path
    function clearPath() {
      lifted.forEach(function (m) { m[1].insertBefore(m[0], m[2]); });
      lifted = [];
      svg.classList.remove("showing-path");
      svg.querySelectorAll(".on-path").forEach(function (el) { el.classList.remove("on-path"); });
      if (pathBox) pathBox.hidden = true;
      if (pathFrom) { pathFrom.focus({ preventScroll: true }); pathFrom = null; }
    }
    function showPath(button) {
      clearPath();
      var keys = button.dataset.path.split("|"), marked = keys.map(function (k) { return nodeOf[k]; });
      keys.slice(1).forEach(function (k, i) { marked = marked.concat(links(keys[i], k)); });
      marked.forEach(function (el) {
        if (!el) return;
        el.classList.add("on-path");
        if (el.parentNode.classList.contains("quiet")) {
          lifted.push([el, el.parentNode, el.nextSibling]);
          svg.querySelector(".edges.loud").appendChild(el);
        }
        el.dataset.g.split(" ").forEach(function (g) {  // a collapsed subscription opens to show its part
          var t = svg.querySelector('[data-toggle="' + g + '"]');
          if (t) setGroup(t, true);
        });
      });
      refresh();
      svg.classList.add("showing-path");
      pathFrom = button;
      pathBox.hidden = false;
      document.getElementById("topo-path-label").textContent = button.dataset.pathLabel;
      document.getElementById("topology").scrollIntoView();
      document.getElementById("topo-path-clear").focus({ preventScroll: true });
    }
    document.querySelectorAll("button[data-path]").forEach(function (b) {
      b.addEventListener("click", function () { showPath(b); });
    });
    var pathClear = document.getElementById("topo-path-clear");
    if (pathClear) pathClear.addEventListener("click", clearPath);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && pathBox && !pathBox.hidden) clearPath();
    });
    // -- download: the drawing as a standalone .svg, the page's styles inside it ----------
    var download = document.getElementById("topo-download");
    if (download) download.addEventListener("click", function () {
      var copy = svg.cloneNode(true);
      copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
      copy.setAttribute("viewBox", "0 0 " + svg.dataset.w + " " + svg.dataset.h);
      copy.setAttribute("width", svg.dataset.w);
      copy.setAttribute("height", svg.dataset.h);
      copy.removeAttribute("tabindex");
      // what is on screen, without the page's buttons: collapse toggles and the hidden half of each picture
      copy.querySelectorAll(".toggles, .off").forEach(function (el) { el.remove(); });
      copy.querySelectorAll("[tabindex]").forEach(function (el) { el.removeAttribute("tabindex"); });
      var style = document.createElementNS("http://www.w3.org/2000/svg", "style");
      var css = Array.prototype.map.call(document.querySelectorAll("head style"), function (s) { return s.textContent; }).join("\n");
      style.textContent = css + "\nsvg { background: var(--bg); font: 12px system-ui, sans-serif; }";
      copy.insertBefore(style, copy.firstChild);
      var text = '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
      var url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
      var a = document.createElement("a");
      a.href = url; a.download = "vnet-topology.svg";
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
    document.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        var z = b.dataset.zoom;
        if (z === "in") zoom(1 / 1.4); else if (z === "out") zoom(1.4); else fit();
      });
    });
  }
})();
