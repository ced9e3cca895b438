"""The two coordinate reference systems the project uses, named once.

Storage and display are in WGS 84 longitude/latitude; every length, area,
buffer and distance is computed in UTM zone 34N, whose central meridian (21 E)
runs through Kosovo, so scale error over the region stays below 0.1 %.
"""

STORAGE_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:32634"

# Rough bounding box of the area the app covers (lon_min, lat_min, lon_max, lat_max):
# Kosovo, Serbia and the neighbours' border regions. Events outside it are flagged.
REGION_BBOX = (18.0, 40.5, 23.5, 46.5)
