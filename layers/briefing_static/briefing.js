// Border Brief offline briefing: the map, the details panel, the layer toggles,
// the legend and the event list, all from BB_BRIEFING_DATA (layers/briefing.py).
// Every piece of data text is put into the page with textContent; links are made
// only for source URLs the builder checked (http/https, no user information) and
// are checked again here. No request leaves the file: the basemap is drawn from
// the country outlines. Features are drawn non-interactive and one map-level
// handler finds what lies under a click (BB.identify), so overlapping layers and
// events at one place can all be reached.
(function (D) {
  "use strict";
  var BB = (window.BB = { index: {}, features: [], groups: {}, loaded: {} });
  var LANG_INDEX = { en: 0, sq: 1, sr: 2 };
  var LANG_NAMES = ["English", "Albanian", "Serbian"];
  var lang = LANG_INDEX[D.meta.lang] || 0;
  var E = D.events;
  var n = E.id.length;
  var outside = {};
  D.outside.forEach(function (i) { outside[i] = true; });

  // ---- small DOM helpers: text only ------------------------------------------------
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function checkedUrl(url) {
    if (typeof url !== "string") return null;
    try {
      var u = new URL(url);
      if ((u.protocol === "http:" || u.protocol === "https:") && !u.username && !u.password && u.hostname) return u;
    } catch (err) { /* not a URL: shown as text */ }
    return null;
  }
  function link(text, url) {
    var u = checkedUrl(url);
    if (!u) return el("span", text);
    var a = el("a", text);
    a.href = u.href;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    return a;
  }
  function line(parent, label, value) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return;
    if (Array.isArray(value)) value = value.join("; ");
    var p = el("p");
    p.appendChild(el("b", label + ": "));
    p.appendChild(document.createTextNode(String(value)));
    parent.appendChild(p);
  }
  function sourceList(parent, sources) {
    if (!sources || !sources.length) return;
    parent.appendChild(el("p")).appendChild(el("b", "Sources"));
    var ul = parent.appendChild(el("ul"));
    sources.forEach(function (s) {
      var li = ul.appendChild(el("li"));
      li.appendChild(link(s[1] || s[0], s[3]));
      var u = checkedUrl(s[3]);
      var meta = [s[0], u ? u.hostname.replace(/^www\./, "") : null, s[2]].filter(Boolean).join(" · ");
      if (meta) li.appendChild(document.createTextNode(" — " + meta));
    });
  }

  // ---- names in the briefing's language ---------------------------------------------
  function eventPlace(i) {
    var loc = E.loc[i] || [];
    return loc[lang] || loc[0] || "";
  }
  function eventDate(i) { return E.date[i]; }
  function eventLabel(i) { return E.date[i] + " · " + E.title[i]; }
  function featureName(layerId, props) {
    if (layerId === "places") {
      var names = [props.name, props.name_sq, props.name_sr];
      return names[lang] || props.name || props.id;
    }
    return props.name || props.id;
  }

  // ---- header and footer ---------------------------------------------------------
  var M = D.meta;
  document.title = M.title + " — briefing " + M.from + " to " + M.to;
  document.getElementById("bb-title").textContent = M.title + " — briefing";
  var listed = n - D.outside.length;
  document.getElementById("bb-window").textContent =
    "Time window " + M.from + " to " + M.to + " · " + listed + " of " + M.totalEvents + " events in the catalogue" +
    (M.since ? " · changes since " + M.since + " marked" : "");
  document.getElementById("bb-meta").textContent =
    "Data: " + M.cutoff + " · generated " + M.generated + (M.author ? " by " + M.author : "") +
    (lang ? " · place names in " + LANG_NAMES[lang] + " first" : "");
  var live = document.getElementById("bb-live");
  if (checkedUrl(M.deepLink)) {
    live.appendChild(document.createTextNode("Live app: "));
    live.appendChild(link("open this view in the live app", M.deepLink));
    live.appendChild(el("span", " (" + M.publicUrl + ")", "bb-live-url"));
  } else {
    live.textContent = "A standalone copy: it works offline and does not change when the catalogue does.";
  }
  document.getElementById("bb-footer").textContent =
    "Border Brief offline briefing. Country outlines and boundary: OpenStreetMap contributors (ODbL), via @geo-maps. " +
    "Event summaries by Border Brief (CC BY 4.0); facts from the cited sources. Map drawn with Leaflet.";

  // ---- the map and the offline basemap ---------------------------------------------
  var map = L.map("bb-map", { preferCanvas: true, minZoom: 6, maxZoom: 18, attributionControl: false, zoomSnap: 1 });
  BB.map = map;
  var start = D.view || D.defaultView;
  map.setView([start.lat, start.lon], start.zoom);
  map.getContainer().style.background = D.style.sea;
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  var Attribution = L.Control.extend({
    options: { position: "bottomright" },
    onAdd: function () { return el("div", "Outlines © OpenStreetMap contributors (ODbL) · Leaflet", "bb-attribution"); },
  });
  new Attribution().addTo(map);

  map.createPane("bbBasemap");
  map.getPane("bbBasemap").style.zIndex = 150;
  var fills = D.style.countryFill;
  L.geoJSON(D.countries.data, {
    pane: "bbBasemap", interactive: false,
    style: function (f) {
      return { color: "#9ca3af", weight: 0.8, fill: true, fillColor: fills[f.properties.iso_a3] || fills.other, fillOpacity: 1 };
    },
  }).addTo(map);
  D.labels.forEach(function (l) {
    L.marker([l.lat, l.lon], {
      icon: L.divIcon({ className: "bb-country-label", html: el("span", l.name), iconSize: null }),
      interactive: false, keyboard: false, pane: "bbBasemap",
    }).addTo(map);
  });

  // ---- feature layers ----------------------------------------------------------------
  var layerGroups = {};   // layer id -> leaflet layer(s) toggled together
  var layerInfo = {};     // layer id -> payload
  function kindOf(layer) {
    if (layer instanceof L.CircleMarker) return "point";
    if (layer instanceof L.Polygon) return "area";
    return "line";
  }
  function addFeatureLayer(spec) {
    layerInfo[spec.id] = spec;
    var group = L.geoJSON(spec.data, {
      interactive: false,
      style: function () { return spec.style; },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, L.extend({}, spec.pointStyle, { interactive: false })); },
      onEachFeature: function (f, lyr) {
        (BB.index[spec.id] = BB.index[spec.id] || {})[f.properties.id] = lyr;
        if (!spec.interactive) return;
        var entry = { layerId: spec.id, layerTitle: spec.title, featureId: f.properties.id,
                      label: featureName(spec.id, f.properties), layer: lyr, kind: kindOf(lyr), props: f.properties };
        if (entry.kind === "area") {
          var b = lyr.getBounds();
          entry.size = Math.abs((b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest()));
        }
        BB.features.push(entry);
      },
    });
    layerGroups[spec.id] = [group];
  }
  var order = D.layers.map(function (s) { return s.id; });
  addFeatureLayer(D.countries);
  D.layers.forEach(addFeatureLayer);

  // ---- events: canvas circle markers in a cluster group --------------------------------
  var renderer = L.canvas({ padding: 0.3 });
  var whenLoaded = [];
  function loadedNow() {
    if (BB.loaded.events) return;
    BB.loaded.events = true;
    whenLoaded.forEach(function (cb) { cb(); });
  }
  var group = L.markerClusterGroup({
    chunkedLoading: true, chunkInterval: 100, chunkDelay: 20,
    // (also called with 0 of 0 for the empty queue the group processes when it is added)
    chunkProgress: function (done, total) { if (total === markers.length && done === total) loadedNow(); },
    maxClusterRadius: 35, spiderfyOnMaxZoom: true, showCoverageOnHover: false, disableClusteringAtZoom: 17,
  });
  var circles = L.layerGroup();
  var rings = L.layerGroup();
  var markers = [];
  var drawnCircles = {};
  var changedEvents = D.changes.events || {};
  for (var i = 0; i < n; i++) {
    if (outside[i]) continue;
    var ll = L.latLng(E.lat[i], E.lon[i]);
    var color = D.colors[E.type[i]];
    var exact = E.gp[i] === 1;
    var m = L.circleMarker(ll, {
      renderer: renderer, radius: exact ? 7 : 6, color: exact ? "#1f2937" : color, weight: exact ? 1.5 : 2.5,
      dashArray: exact ? null : "3 2", fillColor: color, fillOpacity: exact ? 0.9 : 0.3, interactive: false, bbIndex: i,
    });
    markers.push(m);
    (BB.index.events = BB.index.events || {})[E.id[i]] = m;
    var key = E.lat[i] + "," + E.lon[i] + "," + E.gp[i] + "," + E.type[i];
    if (!exact && D.circles && D.circles[E.gp[i]] && !drawnCircles[key]) {
      drawnCircles[key] = true;
      circles.addLayer(L.circle(ll, {
        radius: D.circles[E.gp[i]], interactive: false, color: color, weight: 1, dashArray: "4 4",
        fillColor: color, fillOpacity: 0.04, opacity: 0.6, renderer: renderer,
      }));
    }
    if (changedEvents[E.id[i]]) {
      rings.addLayer(L.circleMarker(ll, { radius: 13, color: D.changeColors[changedEvents[E.id[i]]], weight: 3,
                                          fill: false, interactive: false, renderer: renderer }));
    }
  }
  layerGroups.events = [circles, group, rings];
  Object.keys(D.changes).forEach(function (layerId) {
    if (layerId === "events" || !layerGroups[layerId]) return;
    var marks = L.layerGroup();
    Object.keys(D.changes[layerId]).forEach(function (id) {
      var f = (BB.index[layerId] || {})[id];
      if (!f || !f.getLatLngs) return;
      var Shape = f instanceof L.Polygon ? L.polygon : L.polyline;
      marks.addLayer(Shape(f.getLatLngs(), { color: D.changeColors[D.changes[layerId][id]], weight: 5, opacity: 0.85,
                                             dashArray: "1 8", lineCap: "round", fill: false, interactive: false }));
    });
    layerGroups[layerId].push(marks);
  });

  // Bottom to top as on the app's map: areas under lines under points, events on top.
  var visible = {};
  D.visible.forEach(function (id) { visible[id] = true; });
  function showLayer(id, on) {
    visible[id] = on;
    (layerGroups[id] || []).forEach(function (g) { if (on) g.addTo(map); else map.removeLayer(g); });
    // A click on a spread-out marker must not fold its cluster: the map's click handler
    // below folds it only when the click is beside the markers.
    if (on && id === "events" && group._unspiderfyWrapper) map.off("click", group._unspiderfyWrapper, group);
    if (!on && current && current.layerId === id) clearSelection();
    restack();
    renderLegend();
  }
  function restack() {
    ["countries"].concat(order).forEach(function (id) {
      if (!visible[id]) return;
      (layerGroups[id] || []).forEach(function (g) { if (g.bringToFront) g.bringToFront(); });
    });
  }
  ["countries"].concat(order).forEach(function (id) { if (visible[id]) showLayer(id, true); });
  // The group is on the map before it takes the markers (markercluster is quadratic otherwise).
  if (visible.events) showLayer("events", true);
  group.addLayers(markers);
  if (!markers.length || !map.hasLayer(group)) loadedNow();
  BB.groups.events = group;

  // ---- what lies under a point ----------------------------------------------------------
  var LINE_TOLERANCE_PX = 6, POINT_TOLERANCE_PX = 4;
  function lineNear(layer, p) {
    var parts = layer._parts || [];
    for (var a = 0; a < parts.length; a++) {
      for (var b = 1; b < parts[a].length; b++) {
        if (L.LineUtil.pointToSegmentDistance(p, parts[a][b - 1], parts[a][b]) <= LINE_TOLERANCE_PX) return true;
      }
    }
    return false;
  }
  function eventHits(p) {
    var hits = [];
    if (!map.hasLayer(group) || !group._featureGroup) return hits;
    group._featureGroup.eachLayer(function (mk) {
      if (mk.options.bbIndex === undefined) return;
      var d = map.latLngToLayerPoint(mk.getLatLng()).distanceTo(p);
      if (d <= mk.options.radius + POINT_TOLERANCE_PX) hits.push({ d: d, i: mk.options.bbIndex });
    });
    hits.sort(function (x, y) { return x.d - y.d; });
    return hits.map(function (h) {
      return { layerId: "events", layerTitle: "Event", featureId: E.id[h.i], label: eventLabel(h.i) };
    });
  }
  BB.identify = function (cp) {
    var p = map.containerPointToLayerPoint(cp);
    var points = eventHits(p), lines = [], areas = [], countries = [];
    BB.features.forEach(function (f) {
      if (!map.hasLayer(f.layer)) return;
      if (f.kind === "point") {
        if (map.latLngToLayerPoint(f.layer.getLatLng()).distanceTo(p) <= (f.layer.options.radius || 6) + POINT_TOLERANCE_PX) points.push(f);
      } else if (f.kind === "line") {
        if (lineNear(f.layer, p)) lines.push(f);
      } else if (f.layer._containsPoint(p) || lineNear(f.layer, p)) {
        (f.layerId === "countries" ? countries : areas).push(f);
      }
    });
    if (points.length) return points;
    areas.sort(function (x, y) { return x.size - y.size; });
    var found = lines.concat(areas);
    return found.length ? found : countries;
  };

  // ---- selection: highlight, panel, list ---------------------------------------------------
  var current = null, highlighted = null;
  var rowsById = {};
  function unhighlight() {
    if (highlighted && highlighted.layer.setStyle) highlighted.layer.setStyle(highlighted.style);
    highlighted = null;
  }
  function highlight(layerId, featureId) {
    unhighlight();
    var layer = (BB.index[layerId] || {})[featureId];
    if (!layer || !layer.setStyle) return null;
    highlighted = { layer: layer, style: { color: layer.options.color, weight: layer.options.weight } };
    layer.setStyle({ color: D.style.highlight, weight: Math.max(4, layer.options.weight + 2) });
    if (kindOf(layer) !== "area" && layer.bringToFront) layer.bringToFront();
    return layer;
  }
  function clearSelection() {
    current = null;
    unhighlight();
    renderPanel();
    markRow(null);
  }
  function markRow(id) {
    var old = document.querySelector("#bb-rows .bb-row.bb-selected");
    if (old) old.classList.remove("bb-selected");
    if (id && rowsById[id]) rowsById[id].classList.add("bb-selected");
  }
  function select(layerId, featureId, reveal) {
    current = { layerId: layerId, featureId: featureId };
    var layer = highlight(layerId, featureId);
    renderPanel();
    markRow(layerId === "events" ? featureId : null);
    if (reveal && layer && layerId === "events" && group.hasLayer(layer)) {
      group.zoomToShowLayer(layer, function () { highlight(layerId, featureId); });
    }
  }
  BB.current = function () { return current; };

  function eventIndex(id) { return E.id.indexOf(id); }
  function changeBadge(parent, layerId, id) {
    var kind = (D.changes[layerId] || {})[id];
    if (!kind || !M.since) return;
    var badge = el("span", (kind === "added" ? "New since " : "Changed since ") + M.since, "bb-badge");
    badge.style.background = D.changeColors[kind];
    parent.appendChild(el("p")).appendChild(badge);
  }
  function renderEvent(box, i) {
    box.appendChild(el("h3", E.title[i]));
    changeBadge(box, "events", E.id[i]);
    var when = E.date[i] + " (" + (D.codes.tp[E.tp[i]] || "unknown precision") + ")";
    if (E.tod[i]) when += ", about " + E.tod[i] + " local time";
    line(box, "When", when);
    if (outside[i]) box.appendChild(el("p", "This event is outside the briefing's time window, so it is not drawn on the map.", "bb-note"));
    var loc = E.loc[i] || [], others = [];
    [0, 1, 2].forEach(function (k) { if (k !== lang && loc[k]) others.push(LANG_NAMES[k] + ": " + loc[k]); });
    line(box, "Where", eventPlace(i) + (others.length ? " (" + others.join("; ") + ")" : ""));
    line(box, "Location precision", D.codes.gp[E.gp[i]] || "unknown");
    if (E.remote[i]) box.appendChild(el("p", "Happened in " + (E.remoteLoc[i] || "another place") + "; shown at the place it concerns.", "bb-caption"));
    line(box, "Type", D.types[E.type[i]] + " — " + E.sub[i]);
    line(box, "Actors", E.actors[i]);
    line(box, "Fatalities", E.fat[i] === null || E.fat[i] === undefined ? "not applicable / none reported" : E.fat[i]);
    line(box, "On the fatalities", E.fatNote[i]);
    var status = E.status[i];
    line(box, "Status", D.codes.status[status] ? status + " — " + D.codes.status[status] : status);
    if (E.claims[i].length) {
      box.appendChild(el("p")).appendChild(el("b", "Claims by party"));
      var ul = box.appendChild(el("ul"));
      E.claims[i].forEach(function (c) { ul.appendChild(el("li", c[0] + ": " + c[1])); });
    }
    if (E.summary[i]) box.appendChild(el("p", E.summary[i]));
    sourceList(box, E.sources[i]);
  }
  function renderFeature(box, layerId, featureId) {
    var spec = layerInfo[layerId];
    var entry = null;
    BB.features.forEach(function (f) { if (f.layerId === layerId && f.featureId === featureId) entry = f; });
    if (!spec || !entry) return;
    var props = entry.props;
    box.appendChild(el("h3", featureName(layerId, props)));
    box.appendChild(el("p", spec.title, "bb-caption"));
    changeBadge(box, layerId, featureId);
    if (layerId === "places") {
      var names = [props.name, props.name_sq, props.name_sr];
      [0, 1, 2].forEach(function (k) { if (k !== lang) line(box, LANG_NAMES[k], names[k]); });
    }
    spec.panel.forEach(function (pair) { line(box, pair[1], props[pair[0]]); });
    sourceList(box, props.sources);
  }
  var panel = document.getElementById("bb-panel");
  function renderPanel() {
    panel.textContent = "";
    if (!current) {
      panel.appendChild(el("h3", "Details"));
      panel.appendChild(el("p", "Click an event marker, a place or an area on the map, or an event in the list below, to read its details here.", "bb-caption"));
      return;
    }
    var close = el("button", "Close ✕", "bb-close");
    close.type = "button";
    close.addEventListener("click", clearSelection);
    panel.appendChild(close);
    if (current.layerId === "events") renderEvent(panel, eventIndex(current.featureId));
    else renderFeature(panel, current.layerId, current.featureId);
  }

  // ---- clicks, the pick list and hover ---------------------------------------------------------
  function pickList(latlng, hits) {
    var box = el("div", null, "bb-pick");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "Features under the click");
    box.appendChild(el("b", hits.length + " features here: choose one"));
    var popup = L.popup({ maxWidth: 320, autoPanPadding: [20, 20] });
    hits.forEach(function (h) {
      var button = el("button");
      button.type = "button";
      button.setAttribute("data-bb-pick", h.layerId + "|" + h.featureId);
      button.appendChild(el("span", h.label));
      button.appendChild(el("small", h.layerTitle));
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.stop(e);
        map.closePopup(popup);
        select(h.layerId, h.featureId, false);
      });
      box.appendChild(button);
    });
    popup.setLatLng(latlng).setContent(box).openOn(map);
    var first = box.querySelector("button");
    if (first) first.focus();
  }
  map.on("click", function (e) {
    var hits = BB.identify(e.containerPoint);
    if (!hits.some(function (h) { return h.layerId === "events"; })) group.unspiderfy();
    if (hits.length === 1) select(hits[0].layerId, hits[0].featureId, false);
    else if (hits.length > 1) pickList(e.latlng, hits);
  });
  var tip = null, pendingMove = null;
  map.on("mousemove", function (e) {
    if (pendingMove === null) {
      window.requestAnimationFrame(function () {
        var ev = pendingMove; pendingMove = null;
        var target = ev.originalEvent && ev.originalEvent.target;
        var hits = target && target.closest && target.closest(".leaflet-control") ? [] : BB.identify(ev.containerPoint);
        map.getContainer().style.cursor = hits.length ? "pointer" : "";
        if (!hits.length) { if (tip) { map.closeTooltip(tip); tip = null; } return; }
        if (!tip) tip = L.tooltip({ direction: "top", offset: [0, -8], opacity: 0.95 });
        tip.setLatLng(ev.latlng).setContent(el("span", hits[0].label + (hits.length > 1 ? "  (+" + (hits.length - 1) + " more here: click to choose)" : "")));
        if (!map.hasLayer(tip)) map.openTooltip(tip);
      });
    }
    pendingMove = e;
  });
  map.on("mouseout", function () { if (tip) { map.closeTooltip(tip); tip = null; } });
  // The wheel scrolls the page; Ctrl/⌘ + wheel (or a pinch) zooms the map, as in the app.
  document.addEventListener("wheel", function (e) {
    if (map.getContainer().contains(e.target) && !(e.ctrlKey || e.metaKey)) e.stopPropagation();
  }, { capture: true, passive: true });

  // ---- layer toggles and the legend ---------------------------------------------------------------
  var toggles = document.getElementById("bb-toggles");
  var listed = [D.countries, layerInfo.border, layerInfo.places, D.eventsLayer]
    .concat(D.layers.filter(function (s) { return ["border", "places"].indexOf(s.id) < 0; }));
  listed.forEach(function (spec) {
    if (!spec) return;
    var label = el("label");
    label.title = spec.description;
    var box = el("input");
    box.type = "checkbox";
    box.checked = !!visible[spec.id];
    box.setAttribute("data-layer", spec.id);
    box.addEventListener("change", function () { showLayer(spec.id, box.checked); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + spec.title));
    toggles.appendChild(label);
  });

  var legendBox = null;
  var legendOpen = window.innerWidth > 700;  // folded on a phone, where it would cover the map
  function symbol(css) {
    var s = el("span", null, "bb-sym");
    s.style.cssText += css;
    return s;
  }
  function legendRow(parent, css, text) {
    var row = parent.appendChild(el("div"));
    row.appendChild(symbol(css));
    row.appendChild(document.createTextNode(text));
  }
  function renderLegend() {
    if (!legendBox) return;
    legendBox.textContent = "";
    var details = legendBox.appendChild(el("details"));
    details.open = legendOpen;
    details.addEventListener("toggle", function () { legendOpen = details.open; });
    details.appendChild(el("summary", "Legend"));
    if (visible.events) {
      details.appendChild(el("b", "Events"));
      D.legend.eventTypes.forEach(function (t) { legendRow(details, "width:10px;height:10px;border-radius:50%;background:" + t[1], t[0]); });
      legendRow(details, "width:10px;height:10px;border-radius:50%;border:2px dashed #6b7280", "approximate place (with radius)");
      var row = details.appendChild(el("div"));
      D.legend.clusters.forEach(function (c) {
        var s = symbol("width:12px;height:12px;border-radius:50%;margin-right:2px;background:" + c[0]);
        s.title = c[1];
        row.appendChild(s);
      });
      row.appendChild(document.createTextNode("a group of events, the number inside (green: " + D.legend.clusters[0][1] +
        ", yellow: " + D.legend.clusters[1][1] + ", orange: " + D.legend.clusters[2][1] + "); click it to zoom in"));
    }
    var shown = [D.countries].concat(D.layers).filter(function (s) { return visible[s.id]; });
    if (shown.length) details.appendChild(el("b", "Layers"));
    shown.forEach(function (s) {
      var st = s.style;
      var border = Math.max(st.weight, 1).toFixed(0) + "px " + (st.dashArray ? "dashed " : "solid ") + st.color;
      var fill = st.fill ? st.fillColor : "transparent";
      if (s.geometry === "point") legendRow(details, "width:9px;height:9px;border-radius:50%;background:" + fill + ";border:" + border, s.title);
      else if (s.geometry === "line") legendRow(details, "width:16px;height:0;border-top:" + border, s.title);
      else legendRow(details, "width:14px;height:10px;opacity:.9;background:" + fill + ";border:" + border, s.title);
    });
    if (M.since) {
      details.appendChild(el("b", "Changed since " + M.since));
      D.legend.changes.forEach(function (c) {
        legendRow(details, "width:12px;height:12px;border-radius:50%;border:3px solid " + c[1], (c[0] === "added" ? "new" : "changed") + " (ring or dotted outline)");
      });
    }
  }
  var Legend = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      legendBox = el("div", null, "bb-legend");
      L.DomEvent.disableClickPropagation(legendBox);
      L.DomEvent.disableScrollPropagation(legendBox);
      renderLegend();
      return legendBox;
    },
  });
  new Legend().addTo(map);

  // ---- the event list of the window -----------------------------------------------------------------
  var listBox = document.getElementById("bb-rows");
  var rows = [];
  for (var r = 0; r < n; r++) if (!outside[r]) rows.push(r);
  rows.sort(function (a, b) { return E.date[a] < E.date[b] ? -1 : E.date[a] > E.date[b] ? 1 : (E.id[a] < E.id[b] ? -1 : 1); });
  document.getElementById("bb-list-title").textContent =
    "Events from " + M.from + " to " + M.to + " (" + rows.length + ")";
  var fragment = document.createDocumentFragment(), block = null;
  rows.forEach(function (i, k) {
    if (k % 100 === 0) block = fragment.appendChild(el("div", null, "bb-block"));
    var row = el("div", null, "bb-row");
    row.setAttribute("role", "row");
    row.setAttribute("data-event", E.id[i]);
    row.tabIndex = 0;  // reachable with Tab; Enter selects it
    row.appendChild(el("span", E.date[i], "bb-date")).setAttribute("role", "cell");
    row.appendChild(el("span", E.title[i])).setAttribute("role", "cell");
    row.appendChild(el("span", eventPlace(i))).setAttribute("role", "cell");
    var type = row.appendChild(el("span"));
    type.setAttribute("role", "cell");
    type.appendChild(el("span", null, "bb-swatch")).style.background = D.colors[E.type[i]];
    type.appendChild(document.createTextNode(D.types[E.type[i]]));
    var src = row.appendChild(el("span"));
    src.setAttribute("role", "cell");
    E.sources[i].forEach(function (s, k2) {
      if (k2) src.appendChild(document.createTextNode("; "));
      src.appendChild(link(s[0] || s[1], s[3]));
    });
    rowsById[E.id[i]] = row;
    block.appendChild(row);
  });
  listBox.appendChild(fragment);
  // One listener for every row: a click (or Enter) selects the event; a source link opens the source.
  function rowChosen(e) {
    var row = e.target.closest && e.target.closest(".bb-row");
    if (!row || e.target.closest("a")) return;
    if (!visible.events) {
      toggles.querySelector('input[data-layer="events"]').checked = true;
      showLayer("events", true);
    }
    select("events", row.getAttribute("data-event"), true);
    map.getContainer().scrollIntoView({ block: "nearest" });
  }
  listBox.addEventListener("click", rowChosen);
  listBox.addEventListener("keydown", function (e) { if (e.key === "Enter") rowChosen(e); });

  // ---- the sender's selection, and printing ------------------------------------------------------------
  renderPanel();
  if (D.selected) {
    var selLayer = D.selected[0], selId = D.selected[1];
    if (!visible[selLayer] && layerGroups[selLayer]) {
      var t = toggles.querySelector('input[data-layer="' + selLayer + '"]');
      if (t) t.checked = true;
      showLayer(selLayer, true);
    }
    var target = (BB.index[selLayer] || {})[selId];
    var inSight = target && target.getLatLng && map.getBounds().pad(-0.05).contains(target.getLatLng());
    select(selLayer, selId, false);
    // A link without a view, or an event outside it: bring it into sight once the markers are in.
    if (selLayer === "events" && (!D.view || !inSight)) whenLoaded.push(function () { select(selLayer, selId, true); });
  }
  if (BB.loaded.events) whenLoaded.forEach(function (cb) { cb(); });
  function fitForPrint() { map.invalidateSize({ pan: false }); }
  function beforePrint() {
    legendOpen = true;  // the printed map carries its legend
    renderLegend();
    fitForPrint();
  }
  window.addEventListener("beforeprint", beforePrint);
  window.addEventListener("afterprint", fitForPrint);
  if (window.matchMedia) {
    var printMedia = window.matchMedia("print");
    if (printMedia.addEventListener) {
      printMedia.addEventListener("change", function (e) { if (e.matches) beforePrint(); else fitForPrint(); });
    }
  }
  BB.ready = true;
})(window.BB_BRIEFING_DATA);
