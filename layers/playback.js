// Time playback: a map control (Play / Pause, a step back and forward) that walks
// the time window day by day (week by week for windows longer than 120 days)
// inside the browser, with no Streamlit rerun per frame. Events appear as their
// date passes (the event layer's setUntil); areas with a period (period_start,
// period_end: the Serbian deployments, the KFOR reinforcement) appear and
// disappear with their dates. Empty stretches (years without an event) are
// crossed in one step. "Keep this window" writes from=<window start>&to=<the
// day shown> into the address bar and sends the same to the app through
// streamlit-folium's returned value ("window|<from>/<to>|<nonce>", read by
// ui/mapview.py), which reruns the app with that window. Labels are textContent.
(function (map, d) {
  var BB = window.BB, DAY = 864e5;
  function ms(iso) { return Date.parse(iso + "T00:00:00Z"); }
  function iso(t) { return new Date(t).toISOString().slice(0, 10); }
  var start = ms(d.start), end = ms(d.end);
  var step = (end - start) / DAY > d.dailyUpTo ? 7 * DAY : DAY;
  // every day on which something appears or disappears, to cross empty stretches
  var changes = d.eventDays.map(ms);
  Object.keys(d.areas).forEach(function (layerId) {
    Object.keys(d.areas[layerId]).forEach(function (id) {
      var p = d.areas[layerId][id];
      if (p[0]) changes.push(ms(p[0]));
      if (p[1]) changes.push(ms(p[1]) + DAY);
    });
  });
  changes.sort(function (a, b) { return a - b; });

  var cursor = null, timer = null;
  var css = document.createElement("style");
  css.textContent = [
    ".bb-play{background:#fff;padding:4px 6px;font:12px/1.3 sans-serif;display:flex;align-items:center;gap:4px;flex-wrap:wrap;max-width:440px}",
    ".bb-play button{font:600 12px sans-serif;border:1px solid #9ca3af;border-radius:4px;background:#fff;padding:3px 7px;cursor:pointer;color:#111}",
    ".bb-play button:hover,.bb-play button:focus{background:#fef9c3;border-color:#ca8a04}",
    ".bb-play button:disabled{opacity:.45;cursor:default;background:#fff}",
    ".bb-play .bb-play-date{min-width:150px;color:#111827}",
  ].join("");
  document.head.appendChild(css);

  // ---- what is drawn for a day ------------------------------------------------------
  function dated(layerId, id) { return d.areas[layerId] && d.areas[layerId][id]; }
  function areaShown(period, t) {
    return (!period[0] || ms(period[0]) <= t) && (!period[1] || t <= ms(period[1]));
  }
  function restoreOrder() {
    // a re-added path is drawn last on its canvas: put everything drawn after it back on top
    BB.features.forEach(function (f) { if (map.hasLayer(f.layer) && f.layer.bringToFront) f.layer.bringToFront(); });
  }
  function showDay(t) {  // t: epoch ms, or null for "everything in the window"
    var events = BB.groups.events;
    if (events && events.setUntil) events.setUntil(t === null ? null : t + DAY - 1);
    var readded = false;
    BB.features.forEach(function (f) {
      var period = dated(f.layerId, f.featureId);
      if (!period) return;
      var on = t === null || areaShown(period, t);
      if (on && !map.hasLayer(f.layer)) { map.addLayer(f.layer); readded = true; }
      else if (!on && map.hasLayer(f.layer)) map.removeLayer(f.layer);
    });
    if (readded) restoreOrder();
  }

  // ---- the control ------------------------------------------------------------------
  var box = L.DomUtil.create("div", "leaflet-bar bb-play");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Time playback");
  function button(text, name, title) {
    var b = L.DomUtil.create("button", "", box);
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", name);
    b.title = title;
    return b;
  }
  var back = button("◀ " + (step === DAY ? "day" : "week"), "Step back", "One " + (step === DAY ? "day" : "week") + " back");
  var play = button("▶ Play", "Play", "Play the time window " + (step === DAY ? "day by day" : "week by week"));
  var fwd = button((step === DAY ? "day" : "week") + " ▶", "Step forward", "One " + (step === DAY ? "day" : "week") + " forward");
  var status = L.DomUtil.create("span", "bb-play-date", box);
  status.setAttribute("role", "status");
  status.setAttribute("data-testid", "bb-play-status");
  var keep = button("Keep this window", "Keep this window", "Make the window end at the day shown (written to the link as from/to)");
  var stop = button("✕", "Show the whole window", "Stop playback and show the whole window again");
  function render() {
    var playing = timer !== null;
    play.textContent = playing ? "▮▮ Pause" : "▶ Play";
    play.setAttribute("aria-label", playing ? "Pause" : "Play");
    play.setAttribute("aria-pressed", playing ? "true" : "false");
    status.textContent = cursor === null
      ? "Window " + d.start + " – " + d.end
      : "Up to " + iso(cursor) + " (window from " + d.start + ")";
    keep.disabled = cursor === null || playing;
    stop.disabled = cursor === null;
    back.disabled = cursor !== null && cursor <= start;
  }
  function go(t) {
    cursor = Math.max(start, Math.min(end, t));
    showDay(cursor);
    render();
  }
  function next(t) {  // the next frame after t; a long empty stretch is crossed at once
    var n = t + step;
    for (var k = 0; k < changes.length; k++) {
      if (changes[k] > t) {
        if (changes[k] > t + 8 * step) n = start + Math.floor((changes[k] - start) / step) * step;
        break;
      }
    }
    return Math.max(n, t + step);
  }
  function pause() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    render();
  }
  function tick() {
    if (cursor >= end) { pause(); return; }
    go(next(cursor));
    if (cursor >= end) pause();
  }
  L.DomEvent.disableClickPropagation(box);
  L.DomEvent.disableScrollPropagation(box);
  L.DomEvent.on(play, "click", function () {
    if (timer !== null) { pause(); return; }
    if (cursor === null || cursor >= end) go(start);
    timer = setInterval(tick, d.frameMs);
    render();
  });
  L.DomEvent.on(fwd, "click", function () { pause(); go(cursor === null ? start : next(cursor)); });
  L.DomEvent.on(back, "click", function () { pause(); go(cursor === null ? end : cursor - step); });
  L.DomEvent.on(stop, "click", function () { pause(); cursor = null; showDay(null); render(); });
  L.DomEvent.on(keep, "click", function () {
    if (cursor === null) return;
    pause();
    var from = d.start, to = iso(cursor);
    try {  // the address bar at once (same origin), in the form ui/state.py reads
      var w = window.parent, url = new URL(w.location.href);
      url.searchParams.set("from", from);
      url.searchParams.set("to", to);
      w.history.replaceState(w.history.state, "", url.href);
    } catch (err) { /* not same-origin (exported HTML): nothing to write */ }
    // ...and to the app: streamlit-folium sends its returned value on a map click
    BB.nonce += 1;
    var g = window.__GLOBAL_DATA__;
    if (g) g.last_object_clicked_popup = "window|" + from + "/" + to + "|" + BB.session + "." + BB.nonce;
    var c = map.getCenter();
    map.fire("click", { latlng: c, containerPoint: map.latLngToContainerPoint(c), bbSynthetic: true });
    status.textContent = "Keeping " + from + " – " + to + "…";
  });
  var Control = L.Control.extend({ options: { position: "bottomleft" }, onAdd: function () { return box; } });
  new Control().addTo(map);
  render();
})({{ this._parent.get_name() }}, {{ this.payload_js }});
