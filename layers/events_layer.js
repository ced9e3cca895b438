// Event layer: columns of compact data clustered with supercluster (a spatial
// index, npm) and drawn on one canvas: clusters as numbered discs, single events
// as a symbol per type (shape and colour; layers.catalog.EVENT_TYPE_SYMBOLS).
// Nothing here is a Leaflet marker: runtime.js asks this layer what is drawn
// under the pointer (BB.groups.events.hits) for its map-level hit test
// (BB.identify). A click on a cluster zooms in to where it splits; a cluster
// whose events all lie at one point (it never splits) offers them in a pick list.
//
// Positions are integers of 1e-5 degrees (about 1 m). Large catalogues arrive
// packed (layers.render.event_payload): integer columns as base64
// little-endian typed arrays, ids as one comma-separated string.
// BB.loaded.events becomes true once the index is built (BB.loaded.clustered
// then says how many events it holds). BB.index.events[id] is a light handle
// per event (getLatLng, options, setStyle) so the runtime can highlight it.
// Playback (playback.js) shows only events dated up to a day with setUntil.
(function (map, d) {
  var BB = window.BB;
  var ARRAYS = { Int32Array: Int32Array, Uint16Array: Uint16Array, Uint8Array: Uint8Array };
  function column(c) {
    if (Array.isArray(c)) return c;
    var bin = atob(c.b64), bytes = new Uint8Array(bin.length);
    for (var k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
    return new ARRAYS[c.array](bytes.buffer);  // typed arrays are little-endian on every browser platform
  }
  var ids = typeof d.id === "string" ? (d.id ? d.id.split(",") : []) : d.id;
  var lat = column(d.lat), lon = column(d.lon), type = column(d.type), prec = column(d.prec), day = column(d.day);
  var n = ids.length;
  var R = d.radius, DARK = "#1f2937";
  BB.loaded = BB.loaded || {};
  BB.loaded.events = false;

  // ---- one light handle per event (what BB.index.events holds) --------------------------
  function Handle(i) { this.i = i; this._o = null; }
  Object.defineProperty(Handle.prototype, "options", {
    get: function () {
      if (!this._o) {
        var exact = prec[this.i] === 1;
        this._o = { bbIndex: this.i, radius: R, color: exact ? DARK : d.colors[type[this.i]], weight: exact ? 1.5 : 2.5 };
      }
      return this._o;
    },
  });
  Handle.prototype.getLatLng = function () { return L.latLng(lat[this.i] / 1e5, lon[this.i] / 1e5); };
  var styled = {};  // event index -> handle drawn with its own style (the highlighted one), on top
  Handle.prototype.setStyle = function (s) {
    var o = this.options, base = new Handle(this.i).options;
    L.extend(o, s);
    if (o.color !== base.color || o.weight !== base.weight) styled[this.i] = this; else delete styled[this.i];
    layer.redraw();
  };
  Handle.prototype.bringToFront = function () {};
  var handles = new Array(n), byId = {};
  for (var i = 0; i < n; i++) { handles[i] = new Handle(i); byId[ids[i]] = handles[i]; }
  BB.index.events = byId;

  // ---- uncertainty circles (imprecise events of one type at one point share one) ----------
  var uncertainty = L.layerGroup();
  var circles = [];  // [{circle, firstDay}]
  var underRenderer = L.canvas({ padding: 0.3 });
  if (d.uncertaintyRadius) {
    var circleAt = {};
    for (var j = 0; j < n; j++) {
      if (prec[j] === 1) continue;
      var key = lat[j] + "," + lon[j] + "," + prec[j] + "," + type[j];
      if (circleAt[key]) { circleAt[key].firstDay = Math.min(circleAt[key].firstDay, day[j]); continue; }
      var color = d.colors[type[j]];
      var c = L.circle([lat[j] / 1e5, lon[j] / 1e5], {
        radius: d.uncertaintyRadius[prec[j]], interactive: false, color: color, weight: 1,
        dashArray: "4 4", fillColor: color, fillOpacity: 0.04, opacity: 0.6, renderer: underRenderer,
      });
      circleAt[key] = { circle: c, firstDay: day[j] };
      circles.push(circleAt[key]);
      uncertainty.addLayer(c);
    }
  }

  // ---- the spatial index ----------------------------------------------------------------
  var index = null, shownCount = 0, untilDay = null;
  function build() {
    var points = [];
    for (var k = 0; k < n; k++) {
      if (untilDay !== null && day[k] > untilDay) continue;
      points.push({ type: "Feature", i: k, properties: null, geometry: { type: "Point", coordinates: [lon[k] / 1e5, lat[k] / 1e5] } });
    }
    index = new Supercluster({ radius: d.clusterRadius, extent: 256, maxZoom: d.clusterMaxZoom, minZoom: 0 });
    index.load(points);
    shownCount = points.length;
  }

  // ---- symbols -------------------------------------------------------------------------
  function shape(ctx, symbol, x, y, r) {
    ctx.beginPath();
    var k;
    if (symbol === "square") { var s = r * 0.85; ctx.rect(x - s, y - s, 2 * s, 2 * s); }
    else if (symbol === "triangle") { ctx.moveTo(x, y - r * 1.15); ctx.lineTo(x + r * 1.05, y + r * 0.75); ctx.lineTo(x - r * 1.05, y + r * 0.75); ctx.closePath(); }
    else if (symbol === "triangle-down") { ctx.moveTo(x, y + r * 1.15); ctx.lineTo(x + r * 1.05, y - r * 0.75); ctx.lineTo(x - r * 1.05, y - r * 0.75); ctx.closePath(); }
    else if (symbol === "diamond") { ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r * 1.2); ctx.lineTo(x - r, y); ctx.closePath(); }
    else if (symbol === "star") {
      for (k = 0; k < 10; k++) {
        var a = -Math.PI / 2 + k * Math.PI / 5, rr = k % 2 ? r * 0.5 : r * 1.25;
        if (k) ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a)); else ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
      }
      ctx.closePath();
    } else if (symbol === "hexagon") {
      for (k = 0; k < 6; k++) {
        var b = k * Math.PI / 3;
        if (k) ctx.lineTo(x + r * Math.cos(b), y + r * Math.sin(b)); else ctx.moveTo(x + r * Math.cos(b), y + r * Math.sin(b));
      }
      ctx.closePath();
    } else ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  function drawEvent(ctx, i, x, y, style) {
    var exact = prec[i] === 1, color = d.colors[type[i]];
    var r = exact ? R : R - 1;
    shape(ctx, d.symbols[type[i]], x, y, r);
    ctx.globalAlpha = exact ? 0.9 : 0.3;
    ctx.fillStyle = color;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.setLineDash(exact || style ? [] : [3, 2]);
    ctx.lineWidth = style ? style.weight : exact ? 1.5 : 2.5;
    ctx.strokeStyle = style ? style.color : exact ? DARK : color;
    ctx.stroke();
    ctx.setLineDash([]);
  }
  function clusterRadius(count) { return count < 10 ? 13 : count < 100 ? 16 : 19; }
  function drawCluster(ctx, count, x, y) {
    var r = clusterRadius(count), fill = d.clusterColors[count < 10 ? 0 : count < 100 ? 1 : 2];
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.globalAlpha = 0.55; ctx.fillStyle = fill; ctx.fill();
    ctx.beginPath(); ctx.arc(x, y, r - 4, 0, 2 * Math.PI);
    ctx.globalAlpha = 1; ctx.fill();
    ctx.lineWidth = 1; ctx.strokeStyle = "rgba(17,24,39,.45)"; ctx.stroke();
    ctx.fillStyle = "#111827"; ctx.font = "600 11px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(count >= 1000 ? Math.round(count / 100) / 10 + "k" : String(count), x, y + 0.5);
  }

  // ---- the canvas: a Leaflet canvas renderer whose drawing is ours ------------------------
  var drawn = [];  // what is on the canvas now, top last: {x, y, r, i} or {x, y, r, cluster}
  var Painter = L.Canvas.extend({
    _draw: function () {
      var ctx = this._ctx, b = this._bounds;
      drawn = [];
      if (!index || !b) return;
      var zoom = Math.round(map.getZoom());
      var sw = map.layerPointToLatLng(L.point(b.min.x, b.max.y)), ne = map.layerPointToLatLng(L.point(b.max.x, b.min.y));
      var west = Math.max(-180, sw.lng), east = Math.min(180, ne.lng);
      var found = index.getClusters([west, Math.max(-85, sw.lat), east, Math.min(85, ne.lat)], zoom);
      ctx.save();
      for (var k = 0; k < found.length; k++) {
        var f = found[k], c = f.geometry.coordinates;
        var p = map.latLngToLayerPoint([c[1], c[0]]);
        if (f.properties && f.properties.cluster) {
          var count = f.properties.point_count;
          drawCluster(ctx, count, p.x, p.y);
          drawn.push({ x: p.x, y: p.y, r: clusterRadius(count), cluster: f });
        } else if (!styled[f.i]) {
          drawEvent(ctx, f.i, p.x, p.y, null);
          drawn.push({ x: p.x, y: p.y, r: R, i: f.i });
        }
      }
      // the highlighted event on top at its own place, even inside a cluster (there it is
      // only shown: a click at it reaches its cluster, which lists or splits as any other)
      var single = {};
      for (var s = 0; s < found.length; s++) if (!(found[s].properties && found[s].properties.cluster)) single[found[s].i] = true;
      Object.keys(styled).forEach(function (key) {
        var h = styled[key], q = map.latLngToLayerPoint(h.getLatLng());
        if (untilDay !== null && day[h.i] > untilDay) return;
        drawEvent(ctx, h.i, q.x, q.y, h.options);
        drawn.push({ x: q.x, y: q.y, r: R, i: h.i, clustered: !single[h.i] });
      });
      ctx.restore();
    },
  });
  if (!map.getPane("bbEvents")) map.createPane("bbEvents").style.zIndex = 450;  // over the areas
  var painter = new Painter({ padding: 0.3, pane: "bbEvents" });

  function hits(p, tolerance) {  // drawn items within reach of layer point p, nearest first
    var found = [];
    for (var k = drawn.length - 1; k >= 0; k--) {
      var it = drawn[k], dist = Math.sqrt((it.x - p.x) * (it.x - p.x) + (it.y - p.y) * (it.y - p.y));
      if (dist <= it.r + tolerance && !it.clustered) found.push({ d: dist, item: it });
    }
    found.sort(function (a, b) { return a.d - b.d; });
    return found.map(function (h) { return h.item; });
  }
  function label(i) {
    var title = d.title ? d.title[i] : ids[i];
    var date = new Date(d.baseDay + day[i] * 864e5).toISOString().slice(0, 10);
    return date + " · " + title;
  }
  // A cluster that never splits (its events share one point, or lie too close to part
  // at the deepest zoom): its events are offered in a pick list instead.
  function splitsAt(cluster) { return index.getClusterExpansionZoom(cluster.properties.cluster_id); }
  function isStack(cluster) { return splitsAt(cluster) > d.clusterMaxZoom; }
  var PICK_LIMIT = 200;
  function leaves(cluster) { return index.getLeaves(cluster.properties.cluster_id, PICK_LIMIT).map(function (f) { return f.i; }); }
  // The cluster that holds event i at a zoom (null: the event is drawn on its own there).
  function clusterOf(i, ll, zoom) {
    var span = 360 / Math.pow(2, zoom) * 0.6;  // clusters lie within their radius (< a tile) of their events
    var near = index.getClusters([ll.lng - span, ll.lat - span, ll.lng + span, ll.lat + span], zoom);
    for (var k = 0; k < near.length; k++) {
      var f = near[k];
      if (!f.properties || !f.properties.cluster) { if (f.i === i) return null; continue; }
      if (index.getLeaves(f.properties.cluster_id, Infinity).some(function (leaf) { return leaf.i === i; })) return f;
    }
    return null;
  }
  // Where event i is drawn now: its own symbol, or the cluster it is folded into.
  function drawnAt(i) {
    var it;
    for (var k = 0; k < drawn.length; k++) if (drawn[k].i === i && !drawn[k].clustered) it = drawn[k];
    if (!it) {
      var cluster = clusterOf(i, handles[i].getLatLng(), Math.round(map.getZoom()));
      for (var m = 0; m < drawn.length && cluster; m++) {
        if (drawn[m].cluster && drawn[m].cluster.properties.cluster_id === cluster.properties.cluster_id) it = drawn[m];
      }
    }
    if (!it) return { item: null, latlng: handles[i].getLatLng(), shown: false };  // not drawn in view now
    var ll = map.layerPointToLatLng(L.point(it.x, it.y));
    return { item: it, latlng: ll, shown: !it.cluster || isStack(it.cluster) };
  }

  var layer = {
    count: function () { return shownCount; },
    redraw: function () { if (painter._map) painter._redraw(); },
    setUntil: function (ms) {  // only events dated on or before ms (epoch ms; null: all)
      var limit = ms === null ? null : Math.floor((ms - d.baseDay) / 864e5);
      if (limit === untilDay) return;
      untilDay = limit;
      build();
      circles.forEach(function (c) {
        var on = untilDay === null || c.firstDay <= untilDay;
        if (on && !uncertainty.hasLayer(c.circle)) uncertainty.addLayer(c.circle);
        else if (!on && uncertainty.hasLayer(c.circle)) uncertainty.removeLayer(c.circle);
      });
      layer.redraw();
    },
    // For BB.identify: events and clusters drawn under layer point p.
    hits: function (p, tolerance) {
      if (!map.hasLayer(painter)) return [];
      return hits(p, tolerance).map(function (it) {
        if (it.cluster) {
          var count = it.cluster.properties.point_count;
          return {
            layerId: "events", layerTitle: "Events", featureId: "cluster:" + it.cluster.properties.cluster_id, kind: "cluster",
            label: count + " events here: click to " + (isStack(it.cluster) ? "choose one" : "zoom in"), cluster: it.cluster,
            latlng: map.layerPointToLatLng(L.point(it.x, it.y)),
          };
        }
        return { layerId: "events", layerTitle: "Event", featureId: ids[it.i], label: label(it.i), layer: handles[it.i], kind: "point" };
      });
    },
    // A click on a cluster: zoom in until it splits, or offer its events when it never does.
    expand: function (hit) {
      if (isStack(hit.cluster)) {
        return leaves(hit.cluster).map(function (i) {
          return { layerId: "events", layerTitle: "Event", featureId: ids[i], label: label(i), layer: handles[i], kind: "point" };
        });
      }
      map.setView(hit.latlng, Math.min(splitsAt(hit.cluster), map.getMaxZoom()));
      return null;
    },
    drawnAt: function (id) {  // for tests and the benchmark: where an event can be clicked now
      var h = byId[id];
      var at = h && drawnAt(h.i);
      return at ? { shown: at.shown, lat: at.latlng.lat, lon: at.latlng.lng } : null;
    },
    hasLayer: function (h) { return !!h && h === handles[h.i] && (untilDay === null || day[h.i] <= untilDay); },
    // Zoom until the event is drawn on its own (or in a cluster that never splits), then call back.
    zoomToShowLayer: function (h, callback) {
      var ll = h.getLatLng(), zoom = Math.round(map.getZoom());
      while (zoom <= d.clusterMaxZoom) {
        var cluster = clusterOf(h.i, ll, zoom);
        if (!cluster || isStack(cluster)) break;
        zoom = Math.max(zoom + 1, splitsAt(cluster));
      }
      map.once("moveend", function () { if (callback) callback(); });
      map.setView(ll, Math.min(zoom, map.getMaxZoom()));
    },
  };

  BB.eventIds = ids;
  BB.eventLabel = label;
  BB.eventHandles = handles;
  uncertainty.addTo(map);
  build();
  map.addLayer(painter);
  painter._container.classList.add("bb-events");
  BB.groups.events = layer;
  BB.groups.eventUncertainty = uncertainty;
  BB.loaded.clustered = shownCount;
  BB.loaded.events = true;
})({{ this._parent.get_name() }}, {{ this.payload_js }});
