"""The test fixtures themselves: no network, real databases, an offline FastF1 cache."""

from __future__ import annotations

import logging
import socket

import pytest
import requests

from support.synthetic_telemetry import restoring_fastf1_cache

CAR_COLUMNS = ["Date", "SessionTime", "RPM", "Speed", "nGear", "Throttle", "Brake", "DRS"]
POS_COLUMNS = ["Date", "SessionTime", "X", "Y", "Z", "Status"]


@pytest.fixture
def offline_fastf1(recorded_cache):
    """FastF1 reading `recorded_cache` in offline mode; configuration restored afterwards."""
    import fastf1

    with restoring_fastf1_cache():
        fastf1.Cache.configure(cache_dir=str(recorded_cache))
        fastf1.Cache.offline_mode(True)
        yield fastf1


def test_socket_connection_to_internet_is_refused(no_network):
    with pytest.raises(RuntimeError, match="test tried to reach the network: example.com:80"):
        socket.create_connection(("example.com", 80))
    # Remembered too, so the test fails even where the code under test catches the error.
    assert no_network.attempts == ["example.com:80"]
    no_network.attempts.clear()


def test_http_request_to_internet_is_refused(no_network, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)     # a proxy would be asked instead
    with pytest.raises(RuntimeError, match="livetiming.formula1.com:443"):
        requests.get("https://livetiming.formula1.com/", timeout=5)
    assert no_network.attempts and set(no_network.attempts) == {"livetiming.formula1.com:443"}
    no_network.attempts.clear()


def test_loopback_is_allowed():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass


def test_postgres_database_is_fresh_and_usable(postgres_url):
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            assert sa.inspect(connection).get_table_names() == []
            connection.execute(sa.text("CREATE TABLE t (id integer PRIMARY KEY)"))
            connection.execute(sa.text("INSERT INTO t VALUES (1), (2)"))
            assert connection.execute(sa.text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        engine.dispose()  # the fixture force-drops the database anyway


def test_database_url_covers_both_databases(database_url, request):
    """Each parameter of `database_url` gives a usable database of that kind."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
            assert connection.dialect.name == request.node.callspec.params["database_url"]
    finally:
        engine.dispose()


def test_recorded_session_loads_offline_with_synthetic_telemetry(offline_fastf1,
                                                                recorded_telemetry):
    session = offline_fastf1.get_session(2021, "Italian Grand Prix", "FP2")
    session.load()

    assert len(session.results) == 20
    assert len(session.laps) == 482
    assert len(session.weather_data) == 79
    assert len(session.session_status) == 8
    assert len(session.track_status) == 4
    assert len(session.race_control_messages) == 29
    assert session.t0_date is not None

    rows = recorded_telemetry["samples_per_driver"]
    assert len(session.drivers) == 20
    for driver in session.drivers:
        car, pos = session.car_data[driver], session.pos_data[driver]
        assert set(CAR_COLUMNS) <= set(car.columns)
        assert set(POS_COLUMNS) <= set(pos.columns)
        assert len(car) == rows and len(pos) == rows
    # live timing repeats timestamps now and then; the synthetic feed does too
    assert sum(session.car_data[d]["Date"].duplicated().sum() for d in session.drivers) > 0


def test_session_missing_from_cache_logs_instead_of_downloading(offline_fastf1, caplog):
    session = offline_fastf1.get_session(2021, "Italian Grand Prix", "R")
    with caplog.at_level(logging.WARNING, logger="fastf1"):
        session.load()
    assert "Offline mode is enabled but no cached response" in caplog.text
