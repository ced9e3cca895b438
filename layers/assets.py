"""The map's JavaScript and CSS, served from installed packages instead of CDNs.

folium points every map at public CDNs; with no internet the map never draws.
Here each asset the app uses is named once with its installed package file and
its public CDN address. ``python -m layers.assets sync`` copies the installed
files into ``static/vendor/`` (git-ignored), which Streamlit serves at
``/app/static/vendor/`` when ``server.enableStaticServing`` is on; the map then
references them by a URL relative to its iframe. The ``cdn`` asset mode
(``BORDER_BRIEF_ASSETS=cdn``) uses the public addresses instead.
"""

from __future__ import annotations

import filecmp
import importlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from layers.config import VENDOR_DIR, Settings

# JavaScript that is published only on npm (leaflet-draw, supercluster) is pinned in
# layers/npm/package.json + package-lock.json; scripts/setup.sh runs ``npm ci`` there.
NPM_DIR = Path(__file__).resolve().parent / "npm"


@dataclass(frozen=True)
class Asset:
    name: str  # the name folium uses in default_js / default_css
    kind: str  # "js" or "css"
    package: str  # importable XStatic module, or "npm:<name>" for a package in layers/npm
    path: str  # path inside the package's data directory
    cdn_url: str
    extra_dirs: tuple[str, ...] = ()  # directories the file refers to (e.g. images)


ASSETS: dict[str, Asset] = {
    a.name: a
    for a in (
        Asset(
            "leaflet",
            "js",
            "xstatic.pkg.leaflet",
            "leaflet.js",
            "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
        ),
        Asset(
            "leaflet_css",
            "css",
            "xstatic.pkg.leaflet",
            "leaflet.css",
            "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
            extra_dirs=("images",),
        ),
        Asset(
            "markerclusterjs",
            "js",
            "xstatic.pkg.leaflet_markercluster",
            "leaflet.markercluster.js",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.4.1/leaflet.markercluster.js",
        ),
        Asset(
            "markerclustercss",
            "css",
            "xstatic.pkg.leaflet_markercluster",
            "MarkerCluster.css",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.4.1/MarkerCluster.css",
        ),
        Asset(
            "markerclusterdefaultcss",
            "css",
            "xstatic.pkg.leaflet_markercluster",
            "MarkerCluster.Default.css",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.4.1/MarkerCluster.Default.css",
        ),
        Asset(
            "leaflet_draw_js",
            "js",
            "npm:leaflet-draw",
            "dist/leaflet.draw.js",
            "https://cdn.jsdelivr.net/npm/leaflet-draw@1.0.4/dist/leaflet.draw.js",
        ),
        Asset(
            "leaflet_draw_css",
            "css",
            "npm:leaflet-draw",
            "dist/leaflet.draw.css",
            "https://cdn.jsdelivr.net/npm/leaflet-draw@1.0.4/dist/leaflet.draw.css",
            extra_dirs=("dist/images",),
        ),
        Asset(
            "supercluster",
            "js",
            "npm:supercluster",
            "dist/supercluster.min.js",
            "https://cdn.jsdelivr.net/npm/supercluster@8.0.1/dist/supercluster.min.js",
        ),
    )
}

MAP_JS = ("leaflet",)
MAP_CSS = ("leaflet_css",)
CLUSTER_JS = ("markerclusterjs",)
CLUSTER_CSS = ("markerclustercss", "markerclusterdefaultcss")


DRAW_JS = ("leaflet_draw_js",)
DRAW_CSS = ("leaflet_draw_css",)
SUPERCLUSTER_JS = ("supercluster",)


def package_dir(asset: Asset) -> Path:
    """The installed data directory of an asset's package (XStatic or npm)."""
    if asset.package.startswith("npm:"):
        return NPM_DIR / "node_modules" / asset.package[4:]
    module = importlib.import_module(asset.package)
    return Path(module.BASE_DIR)


def package_name(asset: Asset) -> str:
    """The asset's folder below the vendor directory."""
    if asset.package.startswith("npm:"):
        return asset.package[4:]
    return asset.package.rsplit(".", 1)[-1]


def local_relpath(asset: Asset) -> str:
    """Where the asset lives below the vendor directory (and the vendor URL)."""
    return f"{package_name(asset)}/{asset.path}"


def asset_url(name: str, settings: Settings) -> str:
    asset = ASSETS[name]
    if settings.asset_mode == "cdn":
        return asset.cdn_url
    return f"{settings.asset_url}/{local_relpath(asset)}"


def asset_links(names: tuple[str, ...], settings: Settings) -> list[tuple[str, str]]:
    """``(name, url)`` pairs in folium's ``default_js`` / ``default_css`` format."""
    return [(name, asset_url(name, settings)) for name in names]


def sync(vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy every asset (and the directories it refers to) into ``vendor_dir``.

    Only files that differ are copied, so the call is cheap when nothing changed.
    Returns the files written.
    """
    written: list[Path] = []
    for asset in ASSETS.values():
        source_root = package_dir(asset)
        folder = package_name(asset)
        pairs = [(source_root / asset.path, vendor_dir / local_relpath(asset))]
        for extra in asset.extra_dirs:
            for source in sorted((source_root / extra).rglob("*")):
                if source.is_file():
                    pairs.append((source, vendor_dir / folder / source.relative_to(source_root)))
        for source, target in pairs:
            if not source.is_file():
                raise FileNotFoundError(f"{asset.package} has no {source}; install it with scripts/setup.sh")
            if target.is_file() and filecmp.cmp(source, target, shallow=False):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written.append(target)
    return written


def missing_local_assets(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Names of assets not yet copied into ``vendor_dir``."""
    return [a.name for a in ASSETS.values() if not (vendor_dir / local_relpath(a)).is_file()]


def main(argv: list[str]) -> int:
    if argv[:1] != ["sync"]:
        print("usage: python -m layers.assets sync", file=sys.stderr)
        return 2
    written = sync()
    print(f"assets: {len(written)} file(s) copied to {VENDOR_DIR}" if written else "assets: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
