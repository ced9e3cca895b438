// Event layer: columns of compact data turned into canvas circle markers in a
// marker-cluster group (spiderfied at full zoom, so events at one place stay
// clickable). Positions are integers of 1e-5 degrees (about 1 m).
(function (map, d) {
  var BB = window.BB;
  var n = d.id.length;
  var group = L.markerClusterGroup({
    chunkedLoading: true,
    chunkInterval: 100,
    maxClusterRadius: d.clusterRadius,
    spiderfyOnMaxZoom: true,
    showCoverageOnHover: false,
    disableClusteringAtZoom: d.disableClusteringAtZoom,
  });
  var uncertainty = L.layerGroup();
  var markers = new Array(n);
  var renderer = L.canvas({ padding: 0.3 });
  for (var i = 0; i < n; i++) {
    var ll = L.latLng(d.lat[i] / 1e5, d.lon[i] / 1e5);
    var p = d.prec[i];
    var color = d.colors[d.type[i]];
    var exact = p === 1;
    var m = L.circleMarker(ll, {
      renderer: renderer,
      radius: exact ? d.radius : d.radius - 1,
      color: exact ? "#1f2937" : color,
      weight: exact ? 1.5 : 2.5,
      dashArray: exact ? null : "3 2",
      fillColor: color,
      fillOpacity: exact ? 0.9 : 0.3,
      bbIndex: i,
    });
    markers[i] = m;
    BB.register("events", d.id[i], m);
    if (!exact && d.uncertaintyRadius) {
      uncertainty.addLayer(L.circle(ll, {
        radius: d.uncertaintyRadius[p], interactive: false, color: color, weight: 1,
        dashArray: "4 4", fillColor: color, fillOpacity: 0.08, renderer: renderer,
      }));
    }
  }
  function label(i) {
    var title = d.title ? d.title[i] : d.id[i];
    var date = new Date(d.baseDay + d.day[i] * 864e5).toISOString().slice(0, 10);
    return date + " · " + title;
  }
  group.on("click", function (e) {
    var i = e.layer.options.bbIndex;
    if (i !== undefined) BB.select("events", d.id[i]);
  });
  group.on("mouseover", function (e) {
    var i = e.layer.options.bbIndex;
    if (i !== undefined) BB.hover(e, label(i));
  });
  group.on("mouseout", BB.unhover);
  group.addLayers(markers);
  uncertainty.addTo(map);
  group.addTo(map);
  BB.groups.events = group;
})({{ this._parent.get_name() }}, {{ this.payload_js }});
