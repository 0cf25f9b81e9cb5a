"""Planning from the ledger: skip complete sessions before FastF1, retry gaps."""

import datetime as dt

from f1db.plan import SessionPlan, parts_to_record, plan_session
from f1db.records import FetchedSession, LedgerEntry, PartStatus, SessionKey, SessionRef

NOW = dt.datetime(2026, 11, 23)
ALL = ("results", "laps", "weather")
REF = SessionRef(key=SessionKey(2021, 14, "Race"), event_name="Italian Grand Prix",
                 country="Italy", location="Monza", event_format="sprint",
                 start_utc=dt.datetime(2021, 9, 12, 13))


def ledger(updated_at_utc=dt.datetime(2026, 11, 20), **statuses):
    """What the ledger holds of REF: ``statuses`` per table (None: never asked for)."""
    return LedgerEntry(key=REF.key, fastf1_version="3.9.0", loaded_at_utc=updated_at_utc,
                       updated_at_utc=updated_at_utc,
                       statuses={t: PartStatus(s) for t, s in statuses.items() if s})


def test_a_new_session_loads_every_requested_table():
    assert plan_session(REF, ALL, None, now=NOW).tables == ALL


def test_a_complete_session_is_skipped():
    plan = plan_session(REF, ALL, ledger(results="loaded", laps="loaded", weather="loaded"),
                        now=NOW)
    assert plan.skipped and plan.skip_reason == "already stored" and plan.tables == ()


def test_missing_and_partial_tables_are_retried_loaded_ones_kept():
    plan = plan_session(REF, ALL, ledger(results="partial", laps="loaded", weather="missing"),
                        now=NOW)
    assert plan.tables == ("results", "weather")


def test_tables_never_asked_for_are_loaded_when_asked_later():
    plan = plan_session(REF, ALL, ledger(results="loaded", laps=None, weather=None), now=NOW)
    assert plan.tables == ("laps", "weather")


def test_force_reloads_everything_requested():
    complete = ledger(results="loaded", laps="loaded", weather="loaded")
    assert plan_session(REF, ALL, complete, force=True, now=NOW).tables == ALL


def test_a_session_not_held_yet_is_skipped():
    future = SessionRef(key=REF.key, event_name="x", country=None, location=None,
                        event_format=None, start_utc=NOW + dt.timedelta(days=1))
    assert plan_session(future, ALL, None, now=NOW).skip_reason == "not held yet"


def test_statuses_from_what_fastf1_gave():
    fetched = FetchedSession(missing={"weather": "x"}, partial={"results": "y"})
    assert fetched.statuses(ALL) == {"results": "partial", "laps": "loaded", "weather": "missing"}


def test_parts_recorded_with_reasons_and_stored_parts_never_traded_for_nothing():
    fetched = FetchedSession(missing={"weather": "gone", "laps": "gone"},
                             partial={"results": "no classification"})
    plan = SessionPlan(REF, ALL)
    assert parts_to_record(plan, fetched, None) == {
        "results": (PartStatus.PARTIAL, "no classification"),
        "laps": (PartStatus.MISSING, "gone"), "weather": (PartStatus.MISSING, "gone")}
    stored = ledger(results="loaded", laps="loaded", weather="missing")
    assert parts_to_record(plan, fetched, stored) == {
        "results": (PartStatus.PARTIAL, "no classification"),
        "weather": (PartStatus.MISSING, "gone")}     # laps keeps its stored rows


def test_offline_gaps_are_not_retried_while_the_cache_is_unchanged():
    attempted = dt.datetime(2026, 11, 20)
    row = ledger(attempted, results="loaded", laps="missing", weather="partial")
    unchanged = plan_session(REF, ALL, row, now=NOW,
                             offline_cache_changed_utc=attempted - dt.timedelta(hours=1))
    assert unchanged.skipped and "not in the offline FastF1 cache" in unchanged.skip_reason
    changed = plan_session(REF, ALL, row, now=NOW,
                           offline_cache_changed_utc=attempted + dt.timedelta(hours=1))
    assert changed.tables == ("laps", "weather")
    online = plan_session(REF, ALL, row, now=NOW, offline_cache_changed_utc=None)
    assert online.tables == ("laps", "weather")


def test_offline_tables_never_asked_for_are_still_loaded():
    row = ledger(dt.datetime(2026, 11, 20), results="loaded", laps="missing", weather=None)
    plan = plan_session(REF, ALL, row, now=NOW,
                        offline_cache_changed_utc=dt.datetime(2026, 11, 1))
    assert plan.tables == ("laps", "weather")


# --- freshness (--refresh-older-than) and watch mode ------------------------------------------

COMPLETE = dict(results="loaded", laps="loaded", weather="loaded")


def test_refresh_by_age_reloads_sessions_stored_before_then():
    from f1db.plan import freshness_from

    stored = ledger(updated_at_utc=NOW - dt.timedelta(days=40), **COMPLETE)
    plan = plan_session(REF, ALL, stored, now=NOW, refresh=freshness_from("30", now=NOW))
    assert plan.tables == ALL and "refreshed" in plan.note
    recent = plan_session(REF, ALL, stored, now=NOW, refresh=freshness_from("50", now=NOW))
    assert recent.skipped


def test_refresh_by_version_reloads_what_an_older_fastf1_stored():
    from f1db.plan import freshness_from

    stored = ledger(**COMPLETE)                       # stored by FastF1 3.9.0
    assert plan_session(REF, ALL, stored, now=NOW,
                        refresh=freshness_from("3.10.0")).tables == ALL
    assert plan_session(REF, ALL, stored, now=NOW, refresh=freshness_from("3.9.0")).skipped


def test_refresh_values_that_are_neither_age_nor_version_are_refused():
    import pytest

    from f1db.errors import UsageError
    from f1db.plan import freshness_from

    assert freshness_from(None) is None
    for value in ("last week", "", "  ", "-5", "nan", "inf", "1e9", "36501"):
        with pytest.raises(UsageError) as caught:
            freshness_from(value)
        assert caught.value.parameter == "refresh_older_than", value
    assert freshness_from("36500") is not None and freshness_from("0") is not None


def test_watch_waits_for_the_session_end_plus_the_delay():
    from f1db.plan import Watching

    watching = Watching(delay=dt.timedelta(minutes=90), give_up_after=dt.timedelta(days=7))
    race_start = REF.start_utc
    during = plan_session(REF, ALL, None, now=race_start + dt.timedelta(hours=3),
                          watching=watching)
    assert during.skipped and "waiting for its data until 2021-09-12 16:30 UTC" in during.skip_reason
    after = plan_session(REF, ALL, None, now=race_start + dt.timedelta(hours=3, minutes=31),
                         watching=watching)
    assert after.tables == ALL


def test_watch_retries_gaps_until_the_give_up_age():
    from f1db.plan import Watching

    watching = Watching(delay=dt.timedelta(minutes=90), give_up_after=dt.timedelta(days=7))
    gap = ledger(results="partial", laps="loaded", weather="loaded")
    young = plan_session(REF, ALL, gap, now=REF.start_utc + dt.timedelta(days=2),
                         watching=watching)
    assert young.tables == ("results",)
    old = plan_session(REF, ALL, gap, now=REF.start_utc + dt.timedelta(days=8),
                       watching=watching)
    assert old.skipped and "gave up waiting for results" in old.skip_reason
    # a normal run still retries it
    assert plan_session(REF, ALL, gap, now=NOW).tables == ("results",)


# --- tables that ride along with any load, tables that need none ----------------------------

WEEKEND = ("results", "laps", "session_info", "circuit_layouts", "driver_standings")
RIDE_ALONG = ("session_info", "circuit_layouts")
WITHOUT_LOAD = ("driver_standings",)


def weekend_plan(stored):
    return plan_session(REF, WEEKEND, stored, now=NOW, ride_along=RIDE_ALONG,
                        without_load=WITHOUT_LOAD)


def test_ride_along_tables_are_reloaded_with_any_session_load():
    """session_info's t0_date needs telemetry: a load for another table rewrites it too."""
    stored = ledger(results="loaded", laps="missing", session_info="loaded",
                    circuit_layouts="loaded", driver_standings="loaded")
    assert weekend_plan(stored).tables == ("laps", "session_info", "circuit_layouts")


def test_a_session_lacking_only_tables_without_a_load_loads_only_those():
    """Standings come from Jolpica, not Session.load: nothing rides along with them."""
    stored = ledger(results="loaded", laps="loaded", session_info="loaded",
                    circuit_layouts="loaded", driver_standings="missing")
    assert weekend_plan(stored).tables == ("driver_standings",)


def test_a_complete_session_stays_skipped_whatever_rides_along():
    stored = ledger(**dict.fromkeys(WEEKEND, "loaded"))
    assert weekend_plan(stored).skip_reason == "already stored"


def test_a_session_with_none_of_the_chosen_tables_is_skipped_before_fastf1():
    """--tables driver_standings and a qualifying session: nothing to load for it."""
    plan = plan_session(REF, (), None, now=NOW)
    assert plan.skipped and "none of the chosen tables" in plan.skip_reason
