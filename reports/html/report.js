(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("case-data").textContent || "[]");
  var form = document.getElementById("filters");
  var body = document.getElementById("cases-body");
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr.case"));
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=verdict]"));
  var tagSel = document.getElementById("tag");
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var noneShown = document.getElementById("none-shown");
  var details = {}; // row index -> detail <tr>, built on first open

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // Escapes of the corpus convention are shown muted, so that the bytes read as the wire carried
  // them; a line that does not end in \n, \r or \c ends in an implicit CRLF, marked with a muted
  // arrow (not selectable), so that an empty line, such as the one ending a head, stays visible.
  var ESC = /\\(?:x[0-9a-fA-F]{2}|[rnct0s\\])/g;
  var ENDS = { "\\n": 1, "\\r": 1, "\\c": 1 };
  function bytesBlock(text) {
    var pre = el("pre", "bytes");
    if (!text) {
      pre.appendChild(el("span", "none", "(no bytes)"));
      return pre;
    }
    var lines = text.split("\n");
    lines.forEach(function (line, n) {
      var last = 0, end = "", m;
      ESC.lastIndex = 0;
      while ((m = ESC.exec(line)) !== null) {
        if (m.index > last) pre.appendChild(document.createTextNode(line.slice(last, m.index)));
        pre.appendChild(el("span", "esc", m[0]));
        last = ESC.lastIndex;
        end = last === line.length ? m[0] : "";
      }
      if (last < line.length) pre.appendChild(document.createTextNode(line.slice(last)));
      if (!ENDS[end]) {
        var eol = el("span", "eol", "\u21b5");
        eol.title = "CRLF";
        pre.appendChild(eol);
      }
      if (n < lines.length - 1) pre.appendChild(document.createTextNode("\n"));
    });
    return pre;
  }

  var PANES = {
    client: [["client>proxy", "client \u2192 proxy"], ["proxy>client", "proxy \u2192 client"]],
    origin: [["proxy>origin", "proxy \u2192 origin"], ["origin>proxy", "origin \u2192 proxy"]]
  };
  var VERDICTS = { PASS: 1, FAIL: 1, WARN: 1, INFO: 1, SKIP: 1, ERROR: 1 };

  function pane(label, streams) {
    var p = el("div", "pane");
    var h = el("div", "pane-h");
    h.appendChild(el("b", null, label));
    if (!streams.length) {
      p.appendChild(h);
      p.appendChild(bytesBlock(""));
      return p;
    }
    streams.forEach(function (s) { if (s.note) h.appendChild(el("span", "note", s.note)); });
    p.appendChild(h);
    streams.forEach(function (s) { p.appendChild(bytesBlock(s.data)); });
    return p;
  }

  function evidence(streams) {
    var frag = document.createDocumentFragment();
    var order = [], byConn = {};
    streams.forEach(function (s) {
      if (!byConn[s.conn]) { byConn[s.conn] = []; order.push(s.conn); }
      byConn[s.conn].push(s);
    });
    order.forEach(function (conn) {
      var list = byConn[conn];
      var box = el("div", "conn");
      box.appendChild(el("div", "conn-h", conn));
      var panes = el("div", "panes");
      var kind = PANES[conn.split("#")[0]];
      if (kind) {
        var known = {};
        kind.forEach(function (k) {
          known[k[0]] = true;
          panes.appendChild(pane(k[1], list.filter(function (s) { return s.dir === k[0]; })));
        });
        list.forEach(function (s) { if (!known[s.dir]) panes.appendChild(pane(s.dir, [s])); });
      } else {
        list.forEach(function (s) { panes.appendChild(pane(s.dir, [s])); });
      }
      box.appendChild(panes);
      frag.appendChild(box);
    });
    return frag;
  }

  function renderDetail(d) {
    var box = el("div", "d");
    if (d.title) box.appendChild(el("div", "d-title", d.title));
    var meta = el("div", "d-meta");
    function fact(name, value) {
      if (value === undefined || value === null || value === "" || (value.length === 0)) return;
      var s = el("span", null, name + " ");
      s.appendChild(el("b", null, String(value)));
      meta.appendChild(s);
    }
    fact("level", d.level);
    fact("tags", (d.tags || []).join(" "));
    fact("vectors", (d.vectors || []).join(", "));
    fact("outcome", d.outcome);
    fact("baseline", d.baseline);
    fact("duration", d.duration);
    box.appendChild(meta);
    if (d.reason) box.appendChild(el("p", "d-reason", d.reason));
    if (d.rfc && d.rfc.length) {
      box.appendChild(el("h3", null, "RFC requirements"));
      d.rfc.forEach(function (r) {
        var q = el("blockquote");
        q.appendChild(el("cite", null, r.doc + (r.section ? " \u00a7" + r.section : "")));
        q.appendChild(el("span", null, r.quote));
        box.appendChild(q);
      });
    }
    if (d.findings && d.findings.length) {
      box.appendChild(el("h3", null, "Findings"));
      var ul = el("ul", "findings");
      d.findings.forEach(function (f) {
        var li = el("li");
        li.appendChild(el("span", "badge v-" + (VERDICTS[f.verdict] ? f.verdict : "OTHER"), f.verdict));
        li.appendChild(el("code", null, f.oracle));
        li.appendChild(el("span", null, f.message));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (d.streams && d.streams.length) {
      var h = el("h3", null, "Evidence ");
      h.appendChild(el("span", "legend", "\u21b5 CRLF \u00b7 \\n bare LF \u00b7 \\r bare CR \u00b7 \\c no line end \u00b7 \\s SP \u00b7 \\t HTAB \u00b7 \\0 NUL \u00b7 \\xHH any byte"));
      box.appendChild(h);
      box.appendChild(evidence(d.streams));
    } else if (d.evidence === false) {
      box.appendChild(el("h3", null, "Evidence"));
      box.appendChild(el("p", "muted", "No evidence recorded."));
    }
    return box;
  }

  function toggle(row, open) {
    var i = row.getAttribute("data-i");
    if (open === undefined) open = row.getAttribute("aria-expanded") !== "true";
    var det = details[i];
    if (open && !det) {
      det = el("tr", "detail");
      var td = el("td");
      td.colSpan = 5;
      td.appendChild(renderDetail(data[+i] || {}));
      det.appendChild(td);
      row.parentNode.insertBefore(det, row.nextSibling);
      details[i] = det;
    }
    row.setAttribute("aria-expanded", open ? "true" : "false");
    if (det) det.hidden = !open;
    if (open && history.replaceState) history.replaceState(null, "", "#" + encodeURIComponent(row.getAttribute("data-id")));
  }

  function apply() {
    var want = {};
    boxes.forEach(function (b) { want[b.value] = b.checked; });
    var tag = tagSel.value ? " " + tagSel.value + " " : "";
    var q = search.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row) {
      var v = row.getAttribute("data-v");
      var ok = (want[v] !== false) &&
        (!tag || (" " + row.getAttribute("data-t") + " ").indexOf(tag) >= 0) &&
        (!q || row.getAttribute("data-id").toLowerCase().indexOf(q) >= 0);
      row.hidden = !ok;
      var det = details[row.getAttribute("data-i")];
      if (det) det.hidden = !ok || row.getAttribute("aria-expanded") !== "true";
      if (ok) n++;
    });
    shown.textContent = n + " of " + rows.length + " cases";
    noneShown.hidden = n > 0 || rows.length === 0;
  }

  body.addEventListener("click", function (e) {
    var row = e.target.closest("tr.case");
    if (row && !(window.getSelection && String(window.getSelection()).length)) toggle(row);
  });
  body.addEventListener("keydown", function (e) {
    var row = e.target.closest && e.target.closest("tr.case");
    if (row && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(row); }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("change", apply);
  search.addEventListener("input", apply);
  Array.prototype.forEach.call(document.querySelectorAll(".card[data-show]"), function (card) {
    card.addEventListener("click", function () {
      var only = card.getAttribute("data-show");
      boxes.forEach(function (b) { b.checked = !only || b.value === only; });
      apply();
    });
  });

  function stickyOffset() {
    document.documentElement.style.setProperty("--filters-h", form.offsetHeight + "px");
  }
  window.addEventListener("resize", stickyOffset);
  stickyOffset();

  if (location.hash.length > 1) {
    var id = decodeURIComponent(location.hash.slice(1));
    for (var k = 0; k < rows.length; k++) {
      if (rows[k].getAttribute("data-id") === id) {
        toggle(rows[k], true);
        rows[k].scrollIntoView({ block: "start" });
        break;
      }
    }
  }
  apply();
})();
