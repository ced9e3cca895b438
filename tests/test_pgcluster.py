"""The throwaway PostgreSQL + PostGIS cluster the database tests run against (pgcluster.py)."""

from __future__ import annotations

import socket
import time

import pytest
import sqlalchemy as sa

from tests import pgcluster
from tests.pgcluster import fresh_database, throwaway_postgis

BANJSKA = (20.7706, 42.9844)  # lon, lat (approx.)
PRISTINA = (21.1655, 42.6629)


def _scalar(url: str, query: str, **params):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query), params).scalar_one()
    finally:
        engine.dispose()


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _gone(pid: int, seconds: float = 5.0) -> bool:
    """Whether the process has exited (a zombie not yet reaped by init counts as exited)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_server_answers_postgis_version_through_psycopg3(postgis_url):
    assert postgis_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert postgis_url.endswith("/border_brief_test")
    engine = sa.create_engine(postgis_url)
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT PostGIS_Version()")).scalar_one()
            database = conn.execute(sa.text("SELECT current_database()")).scalar_one()
            server = conn.execute(sa.text("SHOW server_version")).scalar_one()
            encoding = conn.execute(sa.text("SHOW server_encoding")).scalar_one()
    finally:
        engine.dispose()
    assert version.split()[0].startswith("3."), version
    assert database == "border_brief_test"
    assert server.startswith("15."), server
    assert encoding == "UTF8"


def test_geography_distance_banjska_to_pristina(postgis_url):
    metres = _scalar(
        postgis_url,
        "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:lon1, :lat1), 4326)::geography,"
        " ST_SetSRID(ST_MakePoint(:lon2, :lat2), 4326)::geography)",
        lon1=BANJSKA[0], lat1=BANJSKA[1], lon2=PRISTINA[0], lat2=PRISTINA[1],
    )
    assert 40_000 < metres < 60_000, metres


def test_listens_on_localhost_only_and_runs_without_durability(postgis_url):
    assert _scalar(postgis_url, "SHOW listen_addresses") == "127.0.0.1"
    assert _scalar(postgis_url, "SELECT host(inet_server_addr())") == "127.0.0.1"
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        assert _scalar(postgis_url, f"SHOW {setting}") == "off", setting
    # The cluster is the test's own, in its temporary folder, never the distribution's.
    data_directory = _scalar(postgis_url, "SHOW data_directory")
    assert data_directory.startswith(str(postgis_url.root)), data_directory


def test_fresh_database_is_empty_has_postgis_and_is_dropped(postgis_url):
    def databases():
        return _scalar(postgis_url, "SELECT array_agg(datname::text) FROM pg_database")

    with fresh_database(postgis_url, "bb_fresh_check") as url:
        assert url == postgis_url.replace("/border_brief_test", "/bb_fresh_check")
        assert "bb_fresh_check" in databases()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            database = conn.execute(sa.text("SELECT current_database()")).scalar_one()
            assert database == "bb_fresh_check"
            assert conn.execute(sa.text("SELECT PostGIS_Version()")).scalar_one()
            tables = conn.execute(sa.text(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN"
                " ('pg_catalog', 'information_schema') AND tablename <> 'spatial_ref_sys'"
            )).scalar_one()
            assert tables == 0
            conn.execute(sa.text("CREATE TABLE only_here (id int, geom geometry(Point, 4326))"))
        # Left open on purpose: the drop must not wait for the pool's connection.
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            with fresh_database(postgis_url, "bb_fresh_other") as other:
                # A second fresh database does not see the first one's table.
                assert _scalar(other, "SELECT to_regclass('only_here') IS NULL")
    engine.dispose()
    assert "bb_fresh_check" not in databases()
    assert "bb_fresh_other" not in databases()
    assert _scalar(postgis_url, "SELECT to_regclass('only_here') IS NULL")


def test_fresh_database_rejects_unsafe_names(postgis_url):
    with pytest.raises(ValueError):
        with fresh_database(postgis_url, 'x"; DROP DATABASE border_brief_test; --'):
            pass


def test_cluster_is_stopped_and_removed_on_exit_even_after_an_error():
    with pytest.raises(RuntimeError, match="boom"):
        with throwaway_postgis() as url:
            root, port = url.root, url.port
            assert root.is_dir() and _answers(port)
            pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
            assert _scalar(url, "SELECT 1") == 1
            raise RuntimeError("boom")
    assert not root.exists()
    assert not _answers(port)
    assert _gone(pid), f"postmaster {pid} still running"


def test_missing_binaries_fail_with_the_debian_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(pgcluster, "PG_MAJOR", "99")
    monkeypatch.setattr(pgcluster.shutil, "which", lambda name: None)
    with pytest.raises(pgcluster.PostgisUnavailable) as info:
        with throwaway_postgis():
            pass
    assert "postgresql-15 postgresql-15-postgis-3" in str(info.value)
    with pytest.raises(pgcluster.PostgisUnavailable, match="postgis"):
        pgcluster._check_postgis(tmp_path)
