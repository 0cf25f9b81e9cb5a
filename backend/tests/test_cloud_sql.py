"""Cloud SQL wiring: the connector is built as documented, used as the engine's creator,
and closed at the end. The connector is replaced by a stand-in that hands out pg8000
connections to the local PostgreSQL, so the whole load path runs for real."""

from __future__ import annotations

from urllib.parse import urlsplit

import pg8000.dbapi
import pytest

from f1db.config import resolve_database
from f1db.db import open_database
from support.database import row_counts, run_populator


class FakeConnector:
    """Records how it was built and used; connects to the scratch database instead."""

    instances: list["FakeConnector"] = []
    database = None

    def __init__(self, **options):
        self.options, self.calls, self.closed = options, [], False
        FakeConnector.instances.append(self)

    def connect(self, instance, driver, **credentials):
        self.calls.append((instance, driver, credentials))
        return pg8000.dbapi.connect(user="postgres", host="127.0.0.1", port=5432,
                                    database=FakeConnector.database)

    def close(self):
        self.closed = True


@pytest.fixture
def cloud_sql(monkeypatch, postgres_url):
    import google.cloud.sql.connector as connector_module

    FakeConnector.instances = []
    FakeConnector.database = urlsplit(postgres_url).path.lstrip("/")
    monkeypatch.setattr(connector_module, "Connector", FakeConnector)
    for name, value in {"INSTANCE_CONNECTION_NAME": "proj:europe-west1:f1", "DB_USER": "loader",
                        "DB_PASS": "cloud-secret", "DB_NAME": "f1", "PRIVATE_IP": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return postgres_url


def test_connector_options_and_credentials(cloud_sql):
    from google.cloud.sql.connector import IPTypes

    database = open_database(resolve_database())
    database.close()
    connector, = FakeConnector.instances
    assert connector.options == {"ip_type": IPTypes.PRIVATE, "enable_iam_auth": False,
                                 "refresh_strategy": "lazy"}
    assert connector.calls[0] == ("proj:europe-west1:f1", "pg8000",
                                  {"user": "loader", "password": "cloud-secret", "db": "f1"})
    assert connector.closed
    assert "cloud-secret" not in database.describe()


def test_a_season_loads_through_the_connector(cloud_sql, recorded_cache):
    summary = run_populator(2021, events=("Italian",), sessions=("FP2",),
                            tables=("results", "laps"), offline=True, cache_dir=recorded_cache)
    assert summary.sessions_loaded == 1 and summary.rows_inserted["laps"] == 482
    assert summary.database == "Cloud SQL proj:europe-west1:f1/f1 (private IP)"
    assert FakeConnector.instances, "the load did not go through the connector"
    assert all(connector.calls for connector in FakeConnector.instances)
    assert all(connector.closed for connector in FakeConnector.instances)
    counts = row_counts(cloud_sql)
    assert (counts["sessions"], counts["session_parts"], counts["laps"]) == (1, 2, 482)
