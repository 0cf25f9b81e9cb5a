"""DatabasePopulator as a library: building one has no side effect, and its errors speak of
its own keywords (``F1DBError.parameter``), never of command-line flags."""

from __future__ import annotations

import fastf1
import pytest

from f1db.errors import ConfigError, F1DBError, UsageError
from f1db.populator import DatabasePopulator
from support.database import run_populator
from support.synthetic_telemetry import restoring_fastf1_cache


@pytest.fixture(autouse=True)
def _fastf1_settings_put_back():
    """These tests change FastF1's process-wide cache settings on purpose."""
    with restoring_fastf1_cache():
        yield


def fastf1_cache_settings():
    return (fastf1.Cache._CACHE_DIR, fastf1.Cache._requests_session_cached,
            fastf1.Cache._ci_mode)


def test_building_a_populator_leaves_fastf1_settings_alone(recorded_cache, tmp_path,
                                                          sqlite_url):
    fastf1.Cache.configure(cache_dir=str(recorded_cache))
    fastf1.Cache.offline_mode(True)
    before = fastf1_cache_settings()
    elsewhere = tmp_path / "another-cache"
    populator = DatabasePopulator(2021, database_url=sqlite_url, offline=False,
                                  cache_dir=elsewhere)
    assert fastf1_cache_settings() == before
    assert not elsewhere.exists()               # not even the folder is made yet
    populator.close()


def test_the_cache_is_configured_when_the_run_starts(recorded_cache, sqlite_url):
    fastf1.Cache.configure(cache_dir=str(recorded_cache.parent))
    summary = run_populator(2021, database_url=sqlite_url, events=("Italian",),
                            sessions=("FP2",), tables=("results",), offline=True,
                            cache_dir=recorded_cache)
    assert summary.sessions_loaded == 1
    assert fastf1.Cache._CACHE_DIR == str(recorded_cache)


@pytest.mark.parametrize("arguments, parameter", [
    (dict(year=1800), "year"),
    (dict(year=2021, tables=("laps", "no_such_table")), "tables"),
    (dict(year=2021, tables=()), "tables"),
    (dict(year=2021, sessions=("XX",)), "sessions"),
    (dict(year=2021, database_url="mysql://u@h/db"), "database_url"),
], ids=["year", "unknown-table", "no-table", "unknown-session", "unsupported-database"])
def test_bad_arguments_name_the_keyword_not_a_flag(arguments, parameter):
    year = arguments.pop("year")
    with pytest.raises(F1DBError) as raised:
        DatabasePopulator(year, **arguments)
    assert isinstance(raised.value, (UsageError, ConfigError))
    assert raised.value.parameter == parameter
    assert "--" not in str(raised.value), str(raised.value)


def test_run_time_errors_name_the_keyword_too(recorded_cache, empty_cache_dir, sqlite_url):
    populator = DatabasePopulator(2021, database_url=sqlite_url, events=("Narnia",),
                                  offline=True, cache_dir=recorded_cache)
    with pytest.raises(UsageError) as unknown_event:
        populator.populate_database()
    with pytest.raises(UsageError) as negative:
        populator.populate_database(max_events=-1)
    offline_without_cache = DatabasePopulator(2021, database_url=sqlite_url, offline=True,
                                              cache_dir=empty_cache_dir)
    with pytest.raises(UsageError) as no_cache:
        offline_without_cache.populate_database()
    for raised, parameter in ((unknown_event, "events"), (negative, "max_events"),
                              (no_cache, "offline")):
        assert raised.value.parameter == parameter
        assert "--" not in str(raised.value), str(raised.value)
