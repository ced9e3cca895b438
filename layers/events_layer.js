// Event layer: columns of compact data turned into canvas circle markers in a
// marker-cluster group (spiderfied at full zoom, so events at one place stay
// clickable). Markers are not interactive themselves: runtime.js finds what
// lies under a click or the pointer (BB.identify) for every layer at once. Positions are integers of 1e-5 degrees (about 1 m). Large
// catalogues arrive packed (layers.render.event_payload): integer columns as
// base64 little-endian typed arrays, ids as one comma-separated string.
// BB.loaded.events becomes true once every marker is in the cluster group
// (BB.loaded.clustered then says how many are).
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
  BB.loaded = BB.loaded || {};
  BB.loaded.events = false;
  var group = L.markerClusterGroup({
    chunkedLoading: true,
    chunkInterval: 100,
    chunkDelay: 20,
    // (also called, with 0 of 0, for the empty queue the group processes when added to the map)
    chunkProgress: function (done, total) {
      if (!BB.loaded.events && total === n && done === total) {  // once, for this layer's markers
        BB.loaded.clustered = group._topClusterLevel.getChildCount();  // markers in the cluster tree
        BB.loaded.events = true;
      }
    },
    maxClusterRadius: d.clusterRadius,
    spiderfyOnMaxZoom: true,
    showCoverageOnHover: false,
    disableClusteringAtZoom: d.disableClusteringAtZoom,
  });
  var uncertainty = L.layerGroup();
  var markers = new Array(n);
  if (!map.getPane("bbEvents")) map.createPane("bbEvents").style.zIndex = 450;  // over the areas
  var renderer = L.canvas({ padding: 0.3, pane: "bbEvents" });
  var drawnCircles = {};
  for (var i = 0; i < n; i++) {
    var ll = L.latLng(lat[i] / 1e5, lon[i] / 1e5);
    var p = prec[i];
    var color = d.colors[type[i]];
    var exact = p === 1;
    var m = L.circleMarker(ll, {
      renderer: renderer,
      radius: exact ? d.radius : d.radius - 1,
      color: exact ? "#1f2937" : color,
      weight: exact ? 1.5 : 2.5,
      dashArray: exact ? null : "3 2",
      fillColor: color,
      fillOpacity: exact ? 0.9 : 0.3,
      interactive: false,
      bbIndex: i,
    });
    markers[i] = m;
    BB.register("events", ids[i], m);
    var circleKey = lat[i] + "," + lon[i] + "," + p + "," + type[i];
    if (!exact && d.uncertaintyRadius && !drawnCircles[circleKey]) {
      drawnCircles[circleKey] = true;  // events of one type at one imprecise point share one circle
      uncertainty.addLayer(L.circle(ll, {
        radius: d.uncertaintyRadius[p], interactive: false, color: color, weight: 1,
        dashArray: "4 4", fillColor: color, fillOpacity: 0.04, opacity: 0.6, renderer: renderer, bbFirstDay: day[i],
      }));
    }
  }
  function label(i) {
    var title = d.title ? d.title[i] : ids[i];
    var date = new Date(d.baseDay + day[i] * 864e5).toISOString().slice(0, 10);
    return date + " · " + title;
  }
  BB.eventIds = ids;
  BB.eventLabel = label;
  uncertainty.addTo(map);
  // On the map first, then the markers: markercluster's addLayers on a group not
  // yet on a map checks each marker against every one queued before it
  // (hasLayer scans an array), which is quadratic: ~7 s at 100,000 events.
  group.addTo(map);
  // A click on a spiderfied marker must not fold its cluster (the selected marker
  // would vanish into it): runtime.js unspiderfies only on clicks beside the markers.
  map.off("click", group._unspiderfyWrapper, group);
  group.addLayers(markers);
  if (n === 0) BB.loaded.events = true;
  BB.groups.events = group;
  // Playback (playback.js): only the events dated on or before ``ms`` (epoch ms; null: all).
  var untilDay = null;
  group.setUntil = function (ms) {
    var limit = ms === null ? null : Math.floor((ms - d.baseDay) / 864e5);
    if (limit === untilDay) return;
    untilDay = limit;
    var keep = [], drop = [];
    for (var k = 0; k < n; k++) (limit === null || day[k] <= limit ? keep : drop).push(markers[k]);
    group.removeLayers(drop);
    group.addLayers(keep);
    uncertainty.eachLayer(function (c) { c.setStyle({ opacity: limit === null || c.options.bbFirstDay <= limit ? 0.6 : 0, fillOpacity: limit === null || c.options.bbFirstDay <= limit ? 0.04 : 0 }); });
  };
  BB.groups.eventUncertainty = uncertainty;
})({{ this._parent.get_name() }}, {{ this.payload_js }});
