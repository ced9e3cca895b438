// Border Brief map runtime: what lies under the pointer, selection, highlight,
// hover labels, wheel behaviour, the copy-link control and the view in the URL.
// Loaded once per map (inlined by layers.render.MapRuntime). No data is ever
// inserted as HTML: every label is built with textContent.
//
// Features are drawn non-interactive: Leaflet's canvas renderers each answer
// clicks only for their own layers, so the event markers' canvas (on top)
// swallowed every click meant for an area beneath it. Instead, one map-level
// handler asks every drawn feature whether it lies under the pointer
// (BB.identify) and offers all of them when several overlap.
(function (map, opts) {
  var BB = (window.BB = window.BB || {});
  BB.map = map;
  BB.nonce = 0;
  BB.session = Date.now().toString(36);  // keeps nonces unique across map re-renders
  BB.index = {};           // layerId -> featureId -> leaflet layer
  BB.features = [];        // [{layerId, featureId, label, layer, kind}] of drawn non-event features
  BB.groups = {};          // layerId -> cluster group (events)
  BB.eventLabel = null;    // set by the event layer: marker -> hover text
  BB.highlighted = null;
  BB.shown = null;         // "<layer>|<id>" highlighted now
  map.getContainer().style.background = opts.background;

  var css = document.createElement("style");
  css.textContent = [
    ".bb-country-label{background:none;border:none;pointer-events:none}",
    ".bb-country-label span{position:absolute;transform:translate(-50%,-50%);color:#4b5563;font:600 13px sans-serif;",
    "letter-spacing:.08em;text-transform:uppercase;text-shadow:0 0 3px #fff,0 0 2px #fff;white-space:nowrap}",
    ".bb-pick{font:13px/1.35 sans-serif;min-width:190px;max-height:320px;overflow-y:auto}",
    ".bb-pick b{display:block;margin-bottom:4px}",
    ".bb-pick button{display:block;width:100%;text-align:left;margin:2px 0;padding:4px 6px;border:1px solid #d1d5db;",
    "border-radius:4px;background:#fff;cursor:pointer;font:13px sans-serif}",
    ".bb-pick button:hover,.bb-pick button:focus{background:#fef9c3;border-color:#ca8a04}",
    ".bb-pick small{color:#4b5563;display:block}",
    ".bb-hint{position:absolute;left:50%;top:50%;transform:translate(-50%,-50%);z-index:1000;",
    "background:rgba(17,24,39,.8);color:#fff;font:15px sans-serif;padding:10px 16px;border-radius:6px;",
    "pointer-events:none;opacity:0;transition:opacity .2s}",
    ".bb-hint.bb-on{opacity:1}",
    ".bb-copy a{font-weight:600;font-size:12px;line-height:26px;width:auto!important;padding:0 8px;color:#111!important}",
    ".bb-copy-done{background:#dcfce7;color:#14532d;font:12px sans-serif;padding:2px 6px;white-space:nowrap}",
  ].join("");
  document.head.appendChild(css);

  function textNode(text) {
    var el = document.createElement("span");
    el.textContent = text;
    return el;
  }
  function kindOf(layer) {
    if (layer instanceof L.CircleMarker) return "point";
    if (layer instanceof L.Polygon) return "area";
    return "line";
  }
  BB.register = function (layerId, featureId, layer) {
    (BB.index[layerId] = BB.index[layerId] || {})[featureId] = layer;
  };
  BB.addFeature = function (layerId, layerTitle, featureId, label, layer) {
    BB.register(layerId, featureId, layer);
    var entry = { layerId: layerId, layerTitle: layerTitle, featureId: featureId, label: label || featureId, layer: layer, kind: kindOf(layer) };
    if (entry.kind === "area") {
      var b = layer.getBounds();  // to offer smaller areas before the larger ones they lie in
      entry.size = Math.abs((b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest()));
    }
    BB.features.push(entry);
  };

  // ---- what lies under a point -------------------------------------------------
  var LINE_TOLERANCE_PX = 6, POINT_TOLERANCE_PX = 4;
  function lineNear(layer, p) {
    var parts = layer._parts || [];
    for (var i = 0; i < parts.length; i++) {
      for (var j = 1; j < parts[i].length; j++) {
        if (L.LineUtil.pointToSegmentDistance(p, parts[i][j - 1], parts[i][j]) <= LINE_TOLERANCE_PX) return true;
      }
    }
    return false;
  }
  function pointNear(layer, p) {
    var c = layer._point || map.latLngToLayerPoint(layer.getLatLng());
    return c.distanceTo(p) <= (layer.options.radius || 6) + POINT_TOLERANCE_PX;
  }
  // The event layer (events_layer.js) knows what it drew: clusters and single events,
  // nearest first. A cluster nearest the pointer is the one hit (a click expands it);
  // otherwise the single events there (several open the pick list).
  function eventHits(p) {
    var events = BB.groups.events;
    if (!events || !events.hits) return [];
    var hits = events.hits(p, POINT_TOLERANCE_PX);
    if (hits.length && hits[0].kind === "cluster") return [hits[0]];
    return hits.filter(function (h) { return h.kind !== "cluster"; });
  }
  // Every feature under container point ``cp``: points (events first) if any are hit;
  // otherwise lines and areas, smaller areas first; country outlines only when
  // nothing else lies there (they are the map's backdrop).
  BB.identify = function (cp) {
    var p = map.containerPointToLayerPoint(cp);
    var points = eventHits(p), lines = [], areas = [], countries = [];
    BB.features.forEach(function (f) {
      if (!map.hasLayer(f.layer)) return;
      if (f.kind === "point") { if (pointNear(f.layer, p)) points.push(f); }
      else if (f.kind === "line") { if (lineNear(f.layer, p)) lines.push(f); }
      else if (f.layer._containsPoint(p) || lineNear(f.layer, p)) {
        (f.layerId === "countries" ? countries : areas).push(f);
      }
    });
    if (points.length) return points;
    areas.sort(function (a, b) { return a.size - b.size; });
    var found = lines.concat(areas);
    return found.length ? found : countries;
  };

  // ---- highlight and selection --------------------------------------------------
  // The selected event also gets a ring on a pane above the markers: it shows where the
  // event is even while its marker is folded into a cluster (a deep link at zoom 13).
  map.createPane("bbSelection").style.zIndex = 640;
  map.getPane("bbSelection").style.pointerEvents = "none";
  BB.ring = L.circleMarker([0, 0], {
    pane: "bbSelection", radius: 13, color: opts.highlight, weight: 4, opacity: 0.95, fill: false, interactive: false,
  });
  function unhighlight() {
    var prev = BB.highlighted;
    if (prev && prev.layer.setStyle) prev.layer.setStyle(prev.style);
    if (map.hasLayer(BB.ring)) map.removeLayer(BB.ring);
    BB.highlighted = null;
    BB.shown = null;
  }
  BB.highlight = function (layerId, featureId) {
    unhighlight();
    var layer = (BB.index[layerId] || {})[featureId];
    if (!layer || !layer.setStyle) return null;
    var o = layer.options;
    BB.highlighted = { layer: layer, layerId: layerId, style: { color: o.color, weight: o.weight } };
    layer.setStyle({ color: opts.highlight, weight: Math.max(4, o.weight + 2) });
    // points and lines come to the front of their canvas; an area stays where it is,
    // so that it does not cover the places and lines drawn over it
    if (kindOf(layer) !== "area" && layer.bringToFront) layer.bringToFront();
    if (layerId === "events" && layer.getLatLng) BB.ring.setLatLng(layer.getLatLng()).addTo(map);
    BB.shown = layerId + "|" + featureId;
    return layer;
  };
  // Report a selection to Streamlit through streamlit-folium's returned value. The
  // nonce makes a second click on the same feature a new value (so a closed panel
  // opens again); no popup or tooltip is bound to features, so the component's
  // own click handler leaves this field as set here.
  BB.select = function (layerId, featureId) {
    BB.nonce += 1;
    BB.highlight(layerId, featureId);
    BB.pending = { key: layerId + "|" + featureId, until: Date.now() + 8000 };
    var g = window.__GLOBAL_DATA__;
    if (g) g.last_object_clicked_popup = layerId + "|" + featureId + "|" + BB.session + "." + BB.nonce;
    BB.lastSelection = layerId + "|" + featureId;
  };

  // The selection lives in the page URL (event=, feature=), written by the app
  // after each run; the map follows it, so a closed panel or a hidden layer
  // leaves nothing highlighted, and a selection made elsewhere (the Timeline)
  // is highlighted here.
  function urlSelection() {
    var ev = BB.urlParam("event");
    if (ev) return "events|" + ev;
    var f = BB.urlParam("feature");
    if (f && f.indexOf("/") > 0) return f.slice(0, f.indexOf("/")) + "|" + f.slice(f.indexOf("/") + 1);
    return null;
  }
  BB.syncSelection = function () {
    var wanted = urlSelection();
    if (BB.pending) {
      if (wanted === BB.pending.key || Date.now() > BB.pending.until) BB.pending = null;
      else return;  // the app has not yet written the new selection into the URL
    }
    if (wanted === BB.shown) return;
    if (!wanted) { unhighlight(); return; }
    var cut = wanted.indexOf("|");
    var layer = BB.highlight(wanted.slice(0, cut), wanted.slice(cut + 1));
    // chosen outside the map (the panel's event feed): bring it into view, at the zoom the user has
    if (layer && layer.getLatLng && !map.getBounds().pad(-0.1).contains(layer.getLatLng())) {
      map.setView(layer.getLatLng(), map.getZoom());
    }
  };
  setInterval(function () { BB.syncSelection(); writeView(); }, 250);

  // ---- hover labels and the pick list ---------------------------------------------
  BB.hover = function (latlng, text) {
    if (!text) return BB.unhover();
    if (!BB.hoverTip) {
      BB.hoverTip = L.tooltip({ direction: "top", offset: [0, -8], className: "bb-hover", opacity: 0.95 });
    }
    BB.hoverTip.setLatLng(latlng).setContent(textNode(text));
    if (!map.hasLayer(BB.hoverTip)) map.openTooltip(BB.hoverTip);
  };
  BB.unhover = function () {
    if (BB.hoverTip) { map.closeTooltip(BB.hoverTip); BB.hoverTip = null; }
  };
  function hoverText(hits) {
    if (!hits.length) return null;
    return hits[0].label + (hits.length > 1 ? "  (+" + (hits.length - 1) + " more here: click to choose)" : "");
  }
  var pendingMove = null;
  map.on("mousemove", function (e) {
    if (pendingMove === null) {
      window.requestAnimationFrame(function () {
        var ev = pendingMove; pendingMove = null;
        if (BB.measuring) { BB.unhover(); return; }
        var target = ev.originalEvent && ev.originalEvent.target;
        if (target && target.closest && target.closest(".leaflet-control")) {  // over the legend or a tool
          BB.unhover(); map.getContainer().style.cursor = ""; return;
        }
        var hits = BB.identify(ev.containerPoint);
        map.getContainer().style.cursor = hits.length ? "pointer" : "";
        BB.lastHover = hits.map(function (h) { return h.layerId + "|" + h.featureId; });
        if (hits.length) BB.hover(ev.latlng, hoverText(hits)); else BB.unhover();
      });
    }
    pendingMove = e;
  });
  map.on("mouseout", function () { BB.unhover(); map.getContainer().style.cursor = ""; });

  function pickList(latlng, hits) {
    var box = document.createElement("div");
    box.className = "bb-pick";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "Features under the click");
    var head = document.createElement("b");
    head.textContent = hits.length + " features here: choose one";
    box.appendChild(head);
    var popup = L.popup({ maxWidth: 320, autoPanPadding: [20, 20], className: "bb-pick-popup" });
    hits.forEach(function (h) {
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-bb-pick", h.layerId + "|" + h.featureId);
      var title = document.createElement("span");
      title.textContent = h.label;
      var kind = document.createElement("small");
      kind.textContent = h.layerTitle;
      button.appendChild(title);
      button.appendChild(kind);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.stop(e);
        map.closePopup(popup);
        BB.select(h.layerId, h.featureId);
        // streamlit-folium sends its value to the app on a map click: give it one
        map.fire("click", { latlng: latlng, containerPoint: map.latLngToContainerPoint(latlng), bbSynthetic: true });
      });
      box.appendChild(button);
    });
    popup.setLatLng(latlng).setContent(box).openOn(map);
    BB.pickOpen = hits.map(function (h) { return h.layerId + "|" + h.featureId; });
    var first = box.querySelector("button");
    if (first) first.focus();
  }
  map.on("click", function (e) {
    if (BB.measuring || e.bbSynthetic) return;  // measuring places points; a synthetic click only reports
    var hits = BB.identify(e.containerPoint);
    // a cluster zooms in until it splits; one whose events share a point lists them
    if (hits.length && hits[0].kind === "cluster") hits = BB.groups.events.expand(hits[0]) || [];
    if (hits.length === 1) BB.select(hits[0].layerId, hits[0].featureId);
    else if (hits.length > 1) pickList(e.latlng, hits);
  });

  // ---- the mouse wheel scrolls the page; Ctrl/⌘ + wheel zooms the map ----------------
  var hint = document.createElement("div");
  hint.className = "bb-hint";
  hint.textContent = (/Mac|iPhone|iPad/.test(navigator.platform) ? "⌘" : "Ctrl") + " + scroll to zoom the map";
  map.getContainer().appendChild(hint);
  var hintTimer = null;
  document.addEventListener("wheel", function (e) {
    if (!map.getContainer().contains(e.target)) return;
    if (e.ctrlKey || e.metaKey) return;  // Leaflet zooms (a trackpad pinch arrives as Ctrl + wheel too)
    e.stopPropagation();  // Leaflet's wheel handler never sees it: the page scrolls instead
    hint.classList.add("bb-on");
    clearTimeout(hintTimer);
    hintTimer = setTimeout(function () { hint.classList.remove("bb-on"); }, 1400);
  }, { capture: true, passive: true });

  // ---- the view: kept in the page, written into the URL ------------------------------------
  // The map view lives in the page URL (lat, lon, zoom) without rerunning the
  // app: the component iframe is same-origin, so it can rewrite the address bar.
  // Streamlit sends the server its own last query string, not the address bar,
  // so the server never learns a panned view; the address bar is corrected
  // whenever the app rewrites it.
  //
  // Nothing of a session or a view is in this script (ui.mapview: the component's
  // identity is the script's hash; a browser that reconnected to a new session on
  // another replica must still click the component that session draws). A map opens at:
  // 1. where the last map of this page was left (a layer toggled, a page revisited):
  //    kept on the app's window, which lives as long as the page in this tab (reruns,
  //    page switches and a reconnection to another replica keep it; a reload, a link
  //    opened in a new tab start afresh);
  // 2. otherwise the session's opening view (a shared link's view, a deep link's event:
  //    ui.session.opening_view), which the app puts in this document's header
  //    (<meta name="bb-opening-view" content="lat,lon,zoom">, layers.render.OpeningView);
  // 3. otherwise the script's default view.
  var VIEW_KEY = "__bbMapView";
  function appWindow() {
    try {
      var w = window.parent;
      return w && w !== window && w.document ? w : null;
    } catch (err) { return null; }  // another origin (e.g. exported HTML in a frame): nothing kept
  }
  function validView(lat, lon, zoom) {
    if (!(isFinite(lat) && isFinite(lon) && isFinite(zoom))) return null;
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return { lat: lat, lon: lon, zoom: Math.round(zoom) };
  }
  function keptView() {
    var w = appWindow();
    try {
      var v = w && typeof w[VIEW_KEY] === "string" ? JSON.parse(w[VIEW_KEY]) : null;
      return v ? validView(Number(v.lat), Number(v.lon), Number(v.zoom)) : null;
    } catch (err) { return null; }
  }
  function keepView() {
    var w = appWindow();
    if (!w) return;
    var c = map.getCenter();
    w[VIEW_KEY] = JSON.stringify({ lat: c.lat, lon: c.lng, zoom: map.getZoom() });  // a string: no object of this frame outlives it
  }
  function openingView() {
    var meta = document.querySelector('meta[name="bb-opening-view"]');
    var parts = meta ? String(meta.getAttribute("content") || "").split(",") : [];
    return parts.length === 3 ? validView(Number(parts[0]), Number(parts[1]), Number(parts[2])) : null;
  }
  var kept = keptView();
  var opening = kept || openingView();
  if (opening) map.setView([opening.lat, opening.lon], opening.zoom, { animate: false });
  BB.restoredView = !!kept;
  map.on("moveend", keepView);
  function writeView() {
    if (window.parent === window) return;
    try {
      var w = window.parent;
      var url = new URL(w.location.href);
      var c = map.getCenter();
      url.searchParams.set("lat", c.lat.toFixed(4));
      url.searchParams.set("lon", c.lng.toFixed(4));
      url.searchParams.set("zoom", String(map.getZoom()));
      if (url.href !== w.location.href) w.history.replaceState(w.history.state, "", url.href);
    } catch (err) { /* not same-origin (e.g. exported HTML): nothing to sync */ }
  }
  map.on("moveend", writeView);
  BB.writeView = writeView;

  BB.urlParam = function (name) {
    try { return new URL(window.parent.location.href).searchParams.get(name); }
    catch (err) { return null; }
  };

  // ---- "Copy link": the page's URL (state and view) to the clipboard --------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {  // plain-http deployments: the older way
      var area = document.createElement("textarea");
      area.value = text;
      area.style.cssText = "position:fixed;left:-9999px";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy refused"));
    });
  }
  var CopyLink = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var box = L.DomUtil.create("div", "leaflet-bar bb-copy");
      var button = L.DomUtil.create("a", "", box);
      button.href = "#";
      button.setAttribute("role", "button");
      button.setAttribute("data-testid", "bb-copy-link");
      button.title = "Copy a link to this view (layers, time window, selection and map view)";
      button.textContent = "Copy link";
      var done = L.DomUtil.create("div", "bb-copy-done", box);
      done.setAttribute("role", "status");
      done.style.display = "none";
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.stop(e);
        writeView();
        var href;
        try { href = window.parent.location.href; } catch (err) { href = window.location.href; }
        copyText(href).then(function () {
          done.textContent = "Link copied";
        }, function () {
          done.textContent = "Copy failed: use the address bar";
        }).then(function () {
          done.style.display = "block";
          setTimeout(function () { done.style.display = "none"; }, 2500);
        });
      });
      return box;
    },
  });
  new CopyLink().addTo(map);

  // After all layers are built: show the selection named in the URL.
  BB.ready = function () {
    var selected = BB.urlParam("event");
    if (selected) {
      var layer = BB.highlight("events", selected);
      // A deep link opens on its event (ui.session.opening_view: at most zoom 13, less for an
      // imprecise location); a selection out of sight (made on another page) is brought into it.
      var inSight = layer && map.getBounds().pad(-0.05).contains(layer.getLatLng());
      if (layer && !inSight) map.setView(layer.getLatLng(), Math.min(map.getZoom(), 13), { animate: false });
    }
    BB.syncSelection();
    keepView();
    writeView();  // the address bar carries the view from the start, ready to be copied
  };
})({{ this._parent.get_name() }}, {{ this.options_js }});
