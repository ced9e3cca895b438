// Border Brief place labels: the places layer's names on the map, by zoom and in the
// chosen language, decluttered, never in the way of a click.
// Inlined by layers.render.PlaceLabels after the places layer. Names enter the page
// only through textContent. Labels live in their own pane with pointer-events: none,
// so a click or hover at a label reaches the map (and BB.identify) underneath.
//
// Payload d: lat, lon, ids, minZoom (from layers.catalog.PLACE_LABEL_MIN_ZOOM by kind),
// rank (lower wins a collision), cls (a CSS class by kind), names {en, sq, sr}, lang.
(function (map, d) {
  var BB = (window.BB = window.BB || {});
  var PAD = 2, DOT = 6, GAP = 8;  // px: around a label, half a place dot, dot to text

  if (!document.getElementById("bb-label-css")) {
    var css = document.createElement("style");
    css.id = "bb-label-css";
    css.textContent = [
      ".bb-place-label{background:none;border:none;pointer-events:none}",
      ".bb-place-label span{position:absolute;left:" + GAP + "px;top:0;transform:translate(0,-50%);white-space:nowrap;",
      "pointer-events:none;color:#1f2937;font:600 12px/1.2 sans-serif;",
      // a white halo keeps the text legible over area fills, lines and the basemap
      "text-shadow:-1px -1px 0 #fff,1px -1px 0 #fff,-1px 1px 0 #fff,1px 1px 0 #fff,0 0 3px #fff,0 0 3px #fff}",
      ".bb-place-label.bb-capital span{font:700 14px/1.2 sans-serif;color:#111827}",
      ".bb-place-label.bb-seat span{font:700 12.5px/1.2 sans-serif}",
      ".bb-place-label.bb-minor span{font:italic 500 11.5px/1.2 sans-serif;color:#374151}",
    ].join("");
    document.head.appendChild(css);
  }
  if (!map.getPane("bbLabels")) {
    var pane = map.createPane("bbLabels");
    pane.style.zIndex = 450;  // above the areas and markers' canvas (400), under tooltips and popups
    pane.style.pointerEvents = "none";
  }

  var LANGS = Object.keys(d.names);
  var labels = d.ids.map(function (id, i) {
    var span = document.createElement("span");
    var marker = L.marker([d.lat[i], d.lon[i]], {
      icon: L.divIcon({ className: "bb-place-label " + d.cls[i], html: span, iconSize: null }),
      interactive: false, keyboard: false, pane: "bbLabels",
    });
    return { id: id, i: i, span: span, marker: marker, minZoom: d.minZoom[i], rank: d.rank[i], size: null };
  });
  var group = L.layerGroup(labels.map(function (l) { return l.marker; })).addTo(map);
  var order = labels.slice().sort(function (a, b) { return a.rank - b.rank || a.i - b.i; });

  function wantedLang() {
    var fromUrl = BB.urlParam ? BB.urlParam("lang") : null;
    return LANGS.indexOf(fromUrl) >= 0 ? fromUrl : d.lang;
  }

  // Where a label may sit around its dot, tried in this order: right, left, above, below.
  // Each: the span's CSS placement and its box relative to the dot (w, h: the text's size).
  var SPOTS = [
    { css: ["left:" + GAP + "px", "top:0", "translate(0,-50%)"], box: function (w, h) { return [GAP, -h / 2, GAP + w, h / 2]; } },
    { css: ["left:" + -GAP + "px", "top:0", "translate(-100%,-50%)"], box: function (w, h) { return [-GAP - w, -h / 2, -GAP, h / 2]; } },
    { css: ["left:0", "top:" + -GAP + "px", "translate(-50%,-100%)"], box: function (w, h) { return [-w / 2, -GAP - h, w / 2, -GAP]; } },
    { css: ["left:0", "top:" + GAP + "px", "translate(-50%,0)"], box: function (w, h) { return [-w / 2, GAP, w / 2, GAP + h]; } },
  ];
  function place(l, spot) {
    if (l.spot === spot) return;
    var css = SPOTS[spot].css;
    l.span.style.left = css[0].slice(5);
    l.span.style.top = css[1].slice(4);
    l.span.style.transform = css[2];
    l.spot = spot;
  }

  // Greedy placement in rank order: a label is shown from its kind's zoom on, at the first
  // spot around its dot where it overlaps no label already placed and no other place's dot.
  function declutter() {
    var zoom = map.getZoom(), size = map.getSize(), placed = [], dots = [];
    labels.forEach(function (l) {
      l.point = map.latLngToContainerPoint(l.marker.getLatLng());
      if (zoom >= l.minZoom) dots.push({ l: l, x0: l.point.x - DOT, y0: l.point.y - DOT, x1: l.point.x + DOT, y1: l.point.y + DOT });
    });
    function free(box, self) {
      for (var k = 0; k < placed.length; k++) {
        var o = placed[k];
        if (box.x0 < o.x1 && box.x1 > o.x0 && box.y0 < o.y1 && box.y1 > o.y0) return false;
      }
      for (var j = 0; j < dots.length; j++) {
        var p = dots[j];
        if (p.l !== self && box.x0 < p.x1 && box.x1 > p.x0 && box.y0 < p.y1 && box.y1 > p.y0) return false;
      }
      return true;
    }
    order.forEach(function (l) {
      var show = false;
      var inside = l.point.x > -200 && l.point.y > -50 && l.point.x < size.x + 200 && l.point.y < size.y + 50;
      if (zoom >= l.minZoom && inside) {
        if (!l.size) {
          l.span.style.visibility = "hidden";
          l.span.style.display = "";
          l.size = { w: l.span.offsetWidth, h: l.span.offsetHeight };
          l.span.style.visibility = "";
        }
        for (var s = 0; s < SPOTS.length && !show; s++) {
          var b = SPOTS[s].box(l.size.w, l.size.h);
          var box = { x0: l.point.x + b[0] - PAD, y0: l.point.y + b[1] - PAD, x1: l.point.x + b[2] + PAD, y1: l.point.y + b[3] + PAD };
          if (free(box, l)) { show = true; placed.push(box); place(l, s); }
        }
      }
      l.span.style.display = show ? "" : "none";
      l.shown = show;
    });
  }

  // The chosen language: label text and the places' hover names (BB.features, runtime.js).
  function setLang(lang) {
    BB.labelLang = lang;
    labels.forEach(function (l) {
      l.span.textContent = d.names[lang][l.i];
      l.size = null;
    });
    var byId = {};
    labels.forEach(function (l) { byId[l.id] = d.names[lang][l.i]; });
    (BB.features || []).forEach(function (f) {
      if (f.layerId === "places" && byId[f.featureId]) f.label = byId[f.featureId];
    });
    declutter();
  }

  map.on("zoomend moveend resize", declutter);
  setLang(wantedLang());
  // The app writes lang= into the page URL after a rerun (the sidebar's choice); the map
  // follows it without being rebuilt, as it follows the selection.
  setInterval(function () {
    var lang = wantedLang();
    if (lang !== BB.labelLang) setLang(lang);
  }, 250);

  BB.placeLabels = {
    group: group,
    // what is drawn now: [{id, text}] (used by the benchmark and for checks)
    shown: function () {
      return labels.filter(function (l) { return l.shown; }).map(function (l) { return { id: l.id, text: l.span.textContent }; });
    },
  };
})({{ this._parent.get_name() }}, {{ this.payload_js }});
