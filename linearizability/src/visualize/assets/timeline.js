// Draws the timeline described by the JSON in #timeline-data: one section per part,
// one row per track, one box per item; a linearization is drawn as numbered points.
// Hover an item for its details (and its own longest linearization); click to pin.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var page = document.getElementById("page");
  var tooltip = document.getElementById("tooltip");
  var LANE_HEIGHT = 26;
  var PAD = 8;
  var pinned = null; // { ctx, id }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function badge(status) {
    var b = el("span", "badge " + status.tone, status.text);
    return b;
  }

  function notes(list) {
    var ul = el("ul", "notes");
    list.forEach(function (n) { ul.appendChild(el("li", null, n)); });
    return ul;
  }

  function legend() {
    var box = el("div", "legend");
    [["linearized", "#dff1e1", "#3a7d44"], ["not in the linearization shown", "#e4ecf7", "#8aa4c8"],
     ["cannot be linearized", "#fde3e3", "#c62828"], ["never returned", "#eeeeee", "#999"],
     ["annotation", "#efe8f8", "#b9a4d6"]].forEach(function (entry) {
      var s = el("span");
      var sw = el("span", "swatch");
      sw.style.background = entry[1];
      sw.style.border = "1px solid " + entry[2];
      s.appendChild(sw);
      s.appendChild(document.createTextNode(entry[0]));
      box.appendChild(s);
    });
    var lp = el("span", null, "green bar: linearization point (number: order)");
    box.appendChild(lp);
    return box;
  }

  function placeTooltip(event) {
    var x = event.clientX + 14, y = event.clientY + 14;
    var w = tooltip.offsetWidth, h = tooltip.offsetHeight;
    if (x + w > window.innerWidth - 8) x = Math.max(8, event.clientX - w - 14);
    if (y + h > window.innerHeight - 8) y = Math.max(8, event.clientY - h - 14);
    tooltip.style.left = x + "px";
    tooltip.style.top = y + "px";
  }

  function fillTooltip(ctx, id) {
    var entry = ctx.items[id];
    tooltip.textContent = "";
    tooltip.appendChild(el("div", "tip-title", entry.item.label));
    var table = el("table");
    function row(name, value) {
      var tr = el("tr");
      tr.appendChild(el("td", null, name));
      tr.appendChild(el("td", null, value));
      table.appendChild(tr);
    }
    entry.item.details.forEach(function (d) { row(d[0], d[1]); });
    var place = ctx.position[id];
    if (place) {
      row("linearized", "#" + (place.k + 1) + " of " + place.of);
      row("state before", ctx.section.states[place.step.before]);
      row("state after", ctx.section.states[place.step.after]);
    } else if (entry.item.kind !== "annotation") {
      row("linearized", "not in the linearization shown");
    }
    if (ctx.section.failure === id) {
      row("breaks here", "this operation cannot be linearized after the longest linearizable prefix");
    }
    tooltip.appendChild(table);
    tooltip.hidden = false;
  }

  function show(ctx, linIndex) {
    ctx.overlays.forEach(function (o) { o.remove(); });
    ctx.overlays = [];
    ctx.position = {};
    Object.keys(ctx.items).forEach(function (id) {
      ctx.items[id].e.classList.remove("linearized", "unlinearized");
    });
    var section = ctx.section;
    if (linIndex !== null && linIndex !== undefined && section.lins[linIndex]) {
      var steps = section.lins[linIndex];
      var prev = -Infinity;
      steps.forEach(function (step, k) {
        var entry = ctx.items[step.item];
        if (!entry) return;
        var x0 = entry.item.x0, x1 = entry.item.x1;
        var x = Math.max(prev + 0.2, x0 + 0.3);
        if (x > x1 - 0.1) x = Math.max(x0, Math.min(x, x1));
        prev = x;
        ctx.position[step.item] = { k: k, of: steps.length, step: step };
        var lp = el("div", "lp");
        lp.style.left = ctx.px(x) + "px";
        lp.style.top = (entry.top - 2) + "px";
        entry.lane.appendChild(lp);
        var num = el("div", "lp-number", String(k + 1));
        num.style.left = ctx.px(x) + "px";
        num.style.top = (entry.top + 12) + "px";
        entry.lane.appendChild(num);
        ctx.overlays.push(lp, num);
      });
    }
    Object.keys(ctx.items).forEach(function (id) {
      var entry = ctx.items[id];
      if (entry.item.kind === "annotation") return;
      entry.e.classList.add(ctx.position[id] ? "linearized" : "unlinearized");
    });
    ctx.current = linIndex;
  }

  function renderSection(section) {
    var box = el("div", "section");
    box.id = section.id;
    var head = el("div", "section-head");
    head.appendChild(el("h2", null, section.title));
    if (section.status) head.appendChild(badge(section.status));
    box.appendChild(head);
    if (section.notes.length) box.appendChild(notes(section.notes));
    var chart = el("div", "chart");
    var ctx = {
      section: section, items: {}, overlays: [], position: {}, current: null,
      px: function (x) { return PAD + x * section.unit; }
    };
    var laneWidth = ctx.px(section.width) + PAD;
    section.tracks.forEach(function (track) {
      var row = el("div", "row" + (track.annotation ? " annotation-track" : ""));
      var label = el("div", "row-label", track.label);
      label.title = track.label;
      row.appendChild(label);
      var lane = el("div", "lane");
      lane.style.width = laneWidth + "px";
      lane.style.height = (track.lanes * LANE_HEIGHT + 4) + "px";
      track.items.forEach(function (item) {
        var e = el("div", "item " + item.kind, item.label);
        e.id = item.id;
        var left = ctx.px(item.x0);
        var width = Math.max(ctx.px(item.x1) - left, 6);
        var top = 3 + item.lane * LANE_HEIGHT;
        e.style.left = left + "px";
        e.style.width = width + "px";
        e.style.top = top + "px";
        if (item.color) e.style.background = item.color;
        ctx.items[item.id] = { item: item, e: e, lane: lane, top: top };
        e.addEventListener("mouseenter", function (event) {
          if (pinned) return;
          e.classList.add("hovered");
          if (item.lin !== null && item.lin !== undefined && item.lin !== ctx.current) show(ctx, item.lin);
          fillTooltip(ctx, item.id);
          placeTooltip(event);
        });
        e.addEventListener("mousemove", function (event) { if (!pinned) placeTooltip(event); });
        e.addEventListener("mouseleave", function () {
          if (pinned) return;
          e.classList.remove("hovered");
          tooltip.hidden = true;
          if (ctx.current !== section.shown) show(ctx, section.shown);
        });
        e.addEventListener("click", function (event) {
          event.stopPropagation();
          var same = pinned && pinned.id === item.id;
          unpin();
          if (same) return;
          pinned = { ctx: ctx, id: item.id };
          e.classList.add("pinned");
          if (item.lin !== null && item.lin !== undefined) show(ctx, item.lin);
          fillTooltip(ctx, item.id);
          placeTooltip(event);
        });
        lane.appendChild(e);
      });
      row.appendChild(lane);
      chart.appendChild(row);
    });
    box.appendChild(chart);
    if (section.failure && ctx.items[section.failure]) {
      var failure = ctx.items[section.failure];
      failure.e.classList.add("failure");
      var marker = el("div", "break-marker");
      marker.style.left = ctx.px(failure.item.x1) + "px";
      marker.style.top = (failure.top - 2) + "px";
      marker.title = "linearization breaks: this operation returned before it could be linearized";
      failure.lane.appendChild(marker);
    }
    show(ctx, section.shown);
    return box;
  }

  function unpin() {
    if (!pinned) return;
    var ctx = pinned.ctx;
    var entry = ctx.items[pinned.id];
    entry.e.classList.remove("pinned", "hovered");
    pinned = null;
    tooltip.hidden = true;
    if (ctx.current !== ctx.section.shown) show(ctx, ctx.section.shown);
  }

  document.addEventListener("click", unpin);
  document.title = data.title;
  var header = el("div", "header");
  var h1 = el("h1", null, data.title);
  if (data.status) h1.appendChild(badge(data.status));
  header.appendChild(h1);
  if (data.notes.length) header.appendChild(notes(data.notes));
  header.appendChild(el("div", "axis-note", data.axis));
  // The colour legend is about linearizations: pages without any (a test's event
  // timeline) say what their own colours mean in their notes.
  if (data.sections.some(function (s) { return s.lins.length > 0; })) header.appendChild(legend());
  page.appendChild(header);
  data.sections.forEach(function (section) {
    page.appendChild(renderSection(section));
    // Scroll the place where linearization breaks into view.
    var failure = section.failure && document.getElementById(section.failure);
    if (failure) {
      var chart = failure.closest(".chart");
      chart.scrollLeft = Math.max(0, failure.offsetLeft - chart.clientWidth / 2);
    }
  });
  page.setAttribute("data-rendered", "true");
})();
