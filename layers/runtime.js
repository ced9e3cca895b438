// Border Brief map runtime: selection, hover labels, highlight and view-in-URL.
// Loaded once per map (inlined by layers.render.MapRuntime). No data is ever
// inserted as HTML: labels are built with textContent.
(function (map, opts) {
  var BB = (window.BB = window.BB || {});
  BB.map = map;
  BB.nonce = 0;
  BB.session = Date.now().toString(36);  // keeps nonces unique across map re-renders
  BB.index = {};           // layerId -> featureId -> leaflet layer
  BB.groups = {};          // layerId -> cluster group (events)
  BB.highlighted = null;
  map.getContainer().style.background = opts.background;

  function textNode(text) {
    var el = document.createElement("span");
    el.textContent = text;
    return el;
  }
  BB.register = function (layerId, featureId, layer) {
    (BB.index[layerId] = BB.index[layerId] || {})[featureId] = layer;
  };
  BB.hover = function (e, text) {
    if (!text) return;
    BB.hoverTip = map.openTooltip(textNode(text), e.latlng, {
      direction: "top", offset: [0, -8], className: "bb-hover", opacity: 0.95,
    });
  };
  BB.unhover = function () {
    if (BB.hoverTip) { map.closeTooltip(BB.hoverTip); BB.hoverTip = null; }
  };
  BB.highlight = function (layerId, featureId) {
    var prev = BB.highlighted;
    if (prev && prev.layer.setStyle) prev.layer.setStyle(prev.style);
    BB.highlighted = null;
    var layer = (BB.index[layerId] || {})[featureId];
    if (!layer || !layer.setStyle) return null;
    var o = layer.options;
    BB.highlighted = { layer: layer, style: { color: o.color, weight: o.weight } };
    layer.setStyle({ color: opts.highlight, weight: Math.max(4, o.weight + 2) });
    if (layer.bringToFront) layer.bringToFront();
    return layer;
  };
  // Report a selection to Streamlit through streamlit-folium's returned value.
  // The nonce makes a second click on the same feature a new value (so a closed
  // panel opens again); no popup or tooltip is bound to features, so the
  // component's own click handler leaves this field as set here.
  BB.select = function (layerId, featureId) {
    if (BB.measuring) return;  // clicks place measuring points instead
    BB.nonce += 1;
    BB.highlight(layerId, featureId);
    var g = window.__GLOBAL_DATA__;
    if (g) g.last_object_clicked_popup = layerId + "|" + featureId + "|" + BB.session + "." + BB.nonce;
    BB.lastSelection = layerId + "|" + featureId;
  };
  BB.bindFeature = function (layerId, featureId, label, layer) {
    BB.register(layerId, featureId, layer);
    layer.on("click", function (e) { BB.select(layerId, featureId); });
    layer.on("mouseover", function (e) { BB.hover(e, label); });
    layer.on("mouseout", BB.unhover);
  };

  // The map view lives in the page URL (lat, lon, zoom) without rerunning the
  // app: the component iframe is same-origin, so it can rewrite the address bar.
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
  // After all layers are built: highlight the event named in the URL.
  BB.ready = function () {
    var selected = BB.urlParam("event");
    if (selected) {
      var layer = BB.highlight("events", selected);
      var group = BB.groups.events;
      // A shared link without a view: bring the selected event into sight.
      if (layer && group && group.hasLayer(layer) && !BB.urlParam("zoom")) {
        group.zoomToShowLayer(layer, function () { BB.highlight("events", selected); });
      }
    }
  };
})({{ this._parent.get_name() }}, {{ this.options_js }});
