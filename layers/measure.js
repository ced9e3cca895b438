// Distance measuring control: click "Measure", click points on the map, read the
// running great-circle distance (Leaflet's map.distance, haversine on a 6,371 km
// sphere, within 0.5 % of the ellipsoid). While measuring, clicks do not select.
(function (map) {
  var BB = window.BB;
  var Measure = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var box = L.DomUtil.create("div", "leaflet-bar bb-measure");
      var button = L.DomUtil.create("a", "", box);
      button.href = "#";
      button.title = "Measure a distance (click points; Esc or click again to stop)";
      button.setAttribute("role", "button");
      button.setAttribute("data-testid", "bb-measure");
      button.textContent = "km";
      button.style.cssText = "font-weight:bold;font-size:11px;color:#111";  // the font shorthand would reset the line height
      var readout = L.DomUtil.create("div", "bb-measure-readout", box);
      readout.style.cssText = "display:none;background:#fff;padding:2px 6px;font:12px sans-serif;white-space:nowrap";
      var points = [], line = null, dots = L.layerGroup().addTo(map);
      function total() {
        var km = 0;
        for (var i = 1; i < points.length; i++) km += map.distance(points[i - 1], points[i]) / 1000;
        return km;
      }
      function update() {
        readout.style.display = "block";
        readout.textContent = points.length < 2
          ? "Click points on the map"
          : total().toFixed(2) + " km (" + (points.length - 1) + " segment" + (points.length > 2 ? "s" : "") + ")";
      }
      function stop() {
        BB.measuring = false;
        points = [];
        dots.clearLayers();
        if (line) { map.removeLayer(line); line = null; }
        readout.style.display = "none";
        map.getContainer().style.cursor = "";
      }
      function onClick(e) {
        if (!BB.measuring) return;
        points.push(e.latlng);
        L.circleMarker(e.latlng, { radius: 3, color: "#111", interactive: false }).addTo(dots);
        if (!line) line = L.polyline(points, { color: "#111", weight: 2, dashArray: "5 5", interactive: false }).addTo(map);
        else line.setLatLngs(points);
        update();
      }
      map.on("click", onClick);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.stop(e);
        if (BB.measuring) { stop(); return; }
        BB.measuring = true;
        map.getContainer().style.cursor = "crosshair";
        update();
      });
      L.DomEvent.disableClickPropagation(box);
      document.addEventListener("keydown", function (e) { if (e.key === "Escape" && BB.measuring) stop(); });
      BB.measure = { total: total, stop: stop, points: function () { return points.slice(); } };
      return box;
    },
  });
  new Measure().addTo(map);
})({{ this._parent.get_name() }});
