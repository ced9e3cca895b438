"""Pure geospatial logic for Border Brief: loading, validation, construction, analysis.

Nothing in this package imports streamlit or folium (see docs/ARCHITECTURE.md).
"""
