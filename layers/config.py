"""All configuration in one place: module defaults, overridden by environment variables.

Every default works offline. A deployment overrides a setting by exporting the
variable before starting the app (see the README's "Configuration" table).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
STATIC_DIR = REPO_ROOT / "static"
# The embedded store (SQLite) lives in a git-ignored folder; a team points
# BORDER_BRIEF_DATABASE_URL at PostgreSQL + PostGIS instead.
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'border-brief.sqlite'}"
# Where the store keeps each layer's frame on local disk for fast restarts (store/snapshots.py);
# BORDER_BRIEF_CACHE_DIR=none turns it off.
DEFAULT_CACHE_DIR = REPO_ROOT / "var" / "cache"
VENDOR_DIR = STATIC_DIR / "vendor"

# Where the map's JavaScript/CSS comes from: "local" serves copies of the installed
# XStatic packages through Streamlit's static file serving; "cdn" uses public CDNs.
DEFAULT_ASSET_MODE = "local"
# URL prefix of the local assets *as seen from the map iframe* (served by Streamlit at
# <base>/app/static/; the iframe lives at <base>/component/<name>/index.html, so a
# relative path keeps working behind any server.baseUrlPath).
DEFAULT_ASSET_URL = "../../app/static/vendor"

DEFAULT_BASEMAP = "offline"
# The crisis area: northern Kosovo and the boundary, from Raška and Jarinje to Mitrovica
# (at zoom 10 a 1100 x 800 px map spans about 123 x 90 km; Novi Pazar to Vushtrri).
DEFAULT_CENTER = (43.03, 20.74)  # lat, lon: Banjska, between Jarinje and Mitrovica
DEFAULT_ZOOM = 10
MAP_HEIGHT_PX = 620

# Radius (metres) drawn around an event whose location is approximate, by geo_precision.
PRECISION_RADIUS_M = {1: 0, 2: 3_000, 3: 15_000}

# Display simplification tolerance for lines and polygons (metres, in the metric CRS).
DISPLAY_TOLERANCE_M = 60.0


@dataclass(frozen=True)
class TileServer:
    """A raster tile basemap the user can pick."""

    key: str
    name: str
    url: str
    attribution: str
    max_zoom: int = 18


PUBLIC_TILE_SERVERS = (
    TileServer(
        "osm",
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        19,
    ),
    TileServer(
        "opentopomap",
        "OpenTopoMap (terrain)",
        "https://{s}.tile.opentopomap.org/{z}/{x}/{y}.png",
        'Map data: &copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors, '
        'SRTM | Map style: &copy; <a href="https://opentopomap.org">OpenTopoMap</a> (CC-BY-SA)',
        17,
    ),
    TileServer(
        "carto-light",
        "CARTO Positron (light)",
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
        '&copy; <a href="https://carto.com/attributions">CARTO</a>',
        19,
    ),
)


@dataclass(frozen=True)
class Settings:
    asset_mode: str
    asset_url: str
    default_basemap: str
    custom_tiles: TileServer | None
    events_file: Path
    data_dir: Path
    database_url: str = DEFAULT_DATABASE_URL
    cache_dir: Path | None = None

    @property
    def tile_servers(self) -> tuple[TileServer, ...]:
        extra = (self.custom_tiles,) if self.custom_tiles else ()
        return extra + PUBLIC_TILE_SERVERS

    @property
    def basemap_keys(self) -> tuple[str, ...]:
        return ("offline",) + tuple(t.key for t in self.tile_servers)


class ConfigurationError(ValueError):
    """A setting has a value the app cannot use; the message names the variable."""


def _cache_dir(value: str) -> Path | None:
    value = value.strip()
    if value.lower() in ("none", "off"):
        return None
    return Path(value) if value else DEFAULT_CACHE_DIR


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (``BORDER_BRIEF_*`` variables)."""
    env = os.environ if environ is None else environ
    asset_mode = env.get("BORDER_BRIEF_ASSETS", DEFAULT_ASSET_MODE).strip().lower()
    if asset_mode not in ("local", "cdn"):
        raise ConfigurationError(f"BORDER_BRIEF_ASSETS must be 'local' or 'cdn', got {asset_mode!r}")

    custom = None
    tile_url = env.get("BORDER_BRIEF_TILE_URL", "").strip()
    if tile_url:
        if not (tile_url.startswith(("http://", "https://", "/")) and "{z}" in tile_url):
            raise ConfigurationError(
                "BORDER_BRIEF_TILE_URL must be an http(s) or absolute-path URL template containing "
                f"{{z}}, {{x}} and {{y}}, got {tile_url!r}"
            )
        custom = TileServer(
            "custom",
            env.get("BORDER_BRIEF_TILE_NAME", "Deployment tile server").strip() or "Deployment tile server",
            tile_url,
            env.get("BORDER_BRIEF_TILE_ATTRIBUTION", "").strip() or "Tiles: deployment tile server",
            int(env.get("BORDER_BRIEF_TILE_MAX_ZOOM", "18")),
        )

    data_dir = Path(env.get("BORDER_BRIEF_DATA_DIR", str(DATA_DIR)))
    events_file = Path(env.get("BORDER_BRIEF_EVENTS_FILE", str(data_dir / "events.geojson")))
    settings = Settings(
        asset_mode=asset_mode,
        asset_url=env.get("BORDER_BRIEF_ASSET_URL", DEFAULT_ASSET_URL).rstrip("/"),
        default_basemap=env.get("BORDER_BRIEF_BASEMAP", DEFAULT_BASEMAP).strip(),
        custom_tiles=custom,
        events_file=events_file,
        data_dir=data_dir,
        database_url=env.get("BORDER_BRIEF_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
        cache_dir=_cache_dir(env.get("BORDER_BRIEF_CACHE_DIR", "")),
    )
    if not settings.database_url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        raise ConfigurationError(
            "BORDER_BRIEF_DATABASE_URL must be an SQLAlchemy URL for SQLite (sqlite:///PATH) or PostgreSQL "
            f"(postgresql+psycopg://USER@HOST/DB), got {settings.database_url.split('@')[-1]!r}"
        )
    if settings.default_basemap not in settings.basemap_keys:
        raise ConfigurationError(
            f"BORDER_BRIEF_BASEMAP must be one of {', '.join(settings.basemap_keys)}, "
            f"got {settings.default_basemap!r}"
        )
    return settings


# --- sign-in and roles (issue 12) -----------------------------------------------------------

@dataclass(frozen=True)
class AuthSettings:
    """Who may read and who may write: see the README's "Sign-in and roles".

    ``public_read``: anonymous visitors may read (as viewers); false makes the whole app
    show only the sign-in form until someone signs in.
    ``session_hours``: how long a local sign-in survives reloads (its token's lifetime).
    ``trusted_header``/``trusted_proxies``/``proxy_secret``: the reverse-proxy mode; the
    header is honoured only on a connection from one of the proxy addresses that also
    carries the shared secret in ``proxy_secret_header``.
    ``role_map``: e-mail address or ``group:NAME`` -> role, for OIDC and proxy identities;
    anyone not in it gets ``default_role``.
    """

    public_read: bool = True
    session_hours: float = 12.0
    trusted_header: str = ""
    trusted_proxies: tuple[str, ...] = ()
    proxy_secret: str = ""
    proxy_secret_header: str = "X-Border-Brief-Proxy-Secret"
    groups_header: str = ""
    role_map: tuple[tuple[str, str], ...] = ()
    default_role: str = "viewer"


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def load_auth_settings(environ: dict[str, str] | None = None) -> AuthSettings:
    """Read the sign-in settings (``BORDER_BRIEF_PUBLIC_READ``, ``BORDER_BRIEF_SESSION_HOURS``, ...)."""
    env = os.environ if environ is None else environ
    roles = ("viewer", "analyst", "admin")
    try:
        hours = float(env.get("BORDER_BRIEF_SESSION_HOURS", "12").strip() or 12)
    except ValueError:
        raise ConfigurationError(
            f"BORDER_BRIEF_SESSION_HOURS must be a number of hours, got {env.get('BORDER_BRIEF_SESSION_HOURS')!r}"
        ) from None
    if not 0 < hours <= 24 * 90:
        raise ConfigurationError(f"BORDER_BRIEF_SESSION_HOURS must be more than 0 and at most 2160 (90 days), got {hours}")
    mapping = []
    for item in env.get("BORDER_BRIEF_ROLE_MAP", "").split(","):
        if not item.strip():
            continue
        who, sep, role = item.rpartition("=")
        who, role = who.strip().casefold(), role.strip().lower()
        if not sep or not who or role not in roles:
            raise ConfigurationError(
                "BORDER_BRIEF_ROLE_MAP is a comma-separated list of ADDRESS=ROLE or group:NAME=ROLE "
                f"(roles: {', '.join(roles)}), got {item.strip()!r}"
            )
        mapping.append((who, role))
    default_role = env.get("BORDER_BRIEF_DEFAULT_ROLE", "viewer").strip().lower() or "viewer"
    if default_role not in roles:
        raise ConfigurationError(f"BORDER_BRIEF_DEFAULT_ROLE must be one of {', '.join(roles)}, got {default_role!r}")
    header = env.get("BORDER_BRIEF_TRUSTED_HEADER", "").strip()
    proxies = tuple(p.strip() for p in env.get("BORDER_BRIEF_TRUSTED_PROXIES", "").split(",") if p.strip())
    secret = env.get("BORDER_BRIEF_PROXY_SECRET", "").strip()
    if header and (not proxies or len(secret) < 16):
        raise ConfigurationError(
            "BORDER_BRIEF_TRUSTED_HEADER needs BORDER_BRIEF_TRUSTED_PROXIES (the proxy's addresses) and "
            "BORDER_BRIEF_PROXY_SECRET (at least 16 characters, which the proxy sends in "
            "X-Border-Brief-Proxy-Secret); without both the header could be forged"
        )
    return AuthSettings(
        public_read=_flag(env, "BORDER_BRIEF_PUBLIC_READ", True),
        session_hours=hours,
        trusted_header=header,
        trusted_proxies=proxies,
        proxy_secret=secret,
        groups_header=env.get("BORDER_BRIEF_GROUPS_HEADER", "").strip(),
        role_map=tuple(mapping),
        default_role=default_role,
    )


# The live app's public address (e.g. https://brief.example.org/), if it has one: the
# offline briefing links to it, with a deep link to the same view. Unset: no link.
PUBLIC_URL_VARIABLE = "BORDER_BRIEF_PUBLIC_URL"


def load_public_url(environ: dict[str, str] | None = None) -> str | None:
    """``BORDER_BRIEF_PUBLIC_URL`` checked as an http(s) address, or None when unset."""
    env = os.environ if environ is None else environ
    value = env.get(PUBLIC_URL_VARIABLE, "").strip()
    if not value:
        return None
    from urllib.parse import urlparse

    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or "@" in parsed.netloc or any(
        c in value for c in " <>\"'\\"
    ):
        raise ConfigurationError(
            f"{PUBLIC_URL_VARIABLE} must be the app's http(s) address, e.g. https://brief.example.org/, got {value!r}"
        )
    return value
