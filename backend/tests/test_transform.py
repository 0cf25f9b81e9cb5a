"""Pure transforms: the data contract's rules on small frames."""

import numpy as np
import pandas as pd
import pytest

from f1db.errors import TransformError
from f1db.models import PACKED_TABLES, Base
from f1db.packing import PackedLayout, pack, pack_columns, unpack
from f1db.records import SessionKey
from f1db.transform import (convert, driver_batches, driver_frame, session_tables, table_columns,
                            table_frame)

KEY = SessionKey(2021, 14, "Practice 2")


def test_durations_become_whole_milliseconds_and_nat_becomes_missing():
    series = pd.Series([pd.Timedelta("0:01:23.456"), pd.NaT, pd.Timedelta("0:00:00.0004999")])
    assert convert(series, "duration_ms").tolist() == [83456, pd.NA, 0]


def test_duration_rounds_to_nearest_millisecond():
    series = pd.Series([pd.Timedelta(microseconds=1500), pd.Timedelta(microseconds=1499)])
    assert convert(series, "duration_ms").tolist() == [2, 1]


def test_counts_held_as_float_with_nan_become_nullable_integers():
    assert convert(pd.Series([1.0, np.nan, 3.0]), "integer").tolist() == [1, pd.NA, 3]


def test_object_integers_with_none_and_empty_text():
    assert convert(pd.Series([1, None, "3", ""], dtype=object), "integer").tolist() == [
        1, pd.NA, 3, pd.NA]


def test_a_fractional_value_in_an_integer_column_names_column_and_value():
    with pytest.raises(TransformError, match=r"laps.tyre_life: value 1.5 is not a whole"):
        convert(pd.Series([1.0, 1.5]), "integer", column="laps.tyre_life")


def test_text_keeps_empty_strings_and_turns_nan_into_missing():
    values = convert(pd.Series(["a", "", None, np.nan, 44], dtype=object), "text").tolist()
    assert values == ["a", "", None, None, "44"]


def test_flags_keep_missing_values():
    assert convert(pd.Series([True, None, False], dtype=object), "flag").tolist() == [
        True, pd.NA, False]


def test_timestamps_become_naive_utc():
    aware = pd.Series(pd.to_datetime(["2021-09-11 14:00:00+02:00"]))
    assert convert(aware, "timestamp_utc").tolist() == [pd.Timestamp("2021-09-11 12:00:00")]
    naive = pd.Series(pd.to_datetime(["2021-09-11 12:00:00.1234567", None]))
    assert convert(naive, "timestamp_utc").tolist() == [
        pd.Timestamp("2021-09-11 12:00:00.123457"), pd.NaT]


def test_table_frame_has_table_columns_in_order_with_session_key():
    table = Base.metadata.tables["session_status"]
    source = pd.DataFrame({"Time": pd.to_timedelta(["0:00:01", "0:00:01"]),
                           "Status": ["Started", "Started"]})
    frame = table_frame(table, source, KEY)
    assert list(frame.columns) == [c.name for c in table.columns]
    assert frame["sequence"].tolist() == [0, 1]       # duplicate rows stay two rows
    assert set(frame["year"]) == {2021} and set(frame["session_type"]) == {"Practice 2"}
    assert frame["time_ms"].tolist() == [1000, 1000]


def test_a_column_fastf1_did_not_give_is_all_missing():
    table = Base.metadata.tables["track_status"]
    source = pd.DataFrame({"Time": pd.to_timedelta(["0:00:01"]), "Status": ["1"]})
    assert table_frame(table, source, KEY)["message"].tolist() == [None]


def test_telemetry_streams_in_driver_order_numbering_samples_per_driver():
    stamp = pd.Timestamp("2021-09-11 12:00:00")
    per_driver = {"44": pd.DataFrame({"Date": [stamp, stamp], "Speed": [100.0, 101.0]}),
                  "33": pd.DataFrame({"Date": [stamp], "Speed": [99.0]})}
    fetched = {"telemetry": per_driver}
    chunks = session_tables(fetched, ("telemetry",), KEY)["telemetry"]
    assert "telemetry" in fetched and len(per_driver) == 2      # lazy: nothing taken yet
    layout = PackedLayout(Base.metadata.tables["telemetry"], PACKED_TABLES["telemetry"])
    packed = next(chunks)                 # both drivers fit one batch, in key order
    assert "telemetry" not in fetched and per_driver == {}      # handed over
    assert packed["first_sample"].tolist() == [0, 0] and packed["samples"].tolist() == [1, 2]
    rows = unpack(packed, layout)         # stored packed, the rows as before
    assert rows["driver_number"].tolist() == ["33", "44", "44"]
    assert rows["sample_index"].tolist() == [0, 0, 1]
    assert rows["speed"].tolist() == [99, 100, 101]
    assert rows["rpm"].isna().all()
    assert next(chunks, None) is None


def driver_frames(*lengths, speed_dtype="float64"):
    stamp = pd.Timestamp("2021-09-11 12:00:00")
    return {f"{number:02d}": pd.DataFrame({
        "Date": [stamp + pd.Timedelta(seconds=i) for i in range(length)],
        "Speed": np.arange(length).astype(speed_dtype)})
        for number, length in enumerate(lengths, start=1)}


def test_driver_batches_hold_whole_drivers_up_to_the_limit_popped_as_they_go():
    source = driver_frames(3, 2, 4, 6)
    batches = driver_batches(source, limit=5)
    first = next(batches)
    assert first["driver_number"].tolist() == ["01"] * 3 + ["02"] * 2
    assert first["sample_index"].tolist() == [0, 1, 2, 0, 1]
    assert list(source) == ["04"]     # taken only as far as needed: 03 did not fit
    assert [b["driver_number"].iloc[0] for b in batches] == ["03", "04"]   # 6 > 5: alone
    assert source == {}


def test_a_driver_whose_columns_differ_starts_a_new_batch():
    source = {**driver_frames(2, 2), "03": driver_frames(1, speed_dtype=object)["01"]}
    source["02"] = source["02"].drop(columns="Speed")
    batches = list(driver_batches(source, limit=100))
    assert [b["driver_number"].unique().tolist() for b in batches] == [["01"], ["02"], ["03"]]


def test_a_batch_converts_exactly_as_its_drivers_one_by_one():
    table = Base.metadata.tables["telemetry"]
    source = driver_frames(7, 1, 5)
    source["02"].loc[0, "Speed"] = np.nan
    one_by_one = pd.concat([table_frame(table, driver_frame(frame, driver), KEY)
                            for driver, frame in sorted(source.items())], ignore_index=True)
    [batch] = list(driver_batches(dict(source)))
    pd.testing.assert_frame_equal(table_frame(table, batch, KEY), one_by_one)


def test_packing_the_columns_equals_packing_the_frame_of_rows():
    """The load packs columns straight from the conversion (session keys broadcast, no
    frame of rows); packing the frame table_frame makes must give the same chunks."""
    table = Base.metadata.tables["positions"]
    layout = PackedLayout(table, PACKED_TABLES["positions"])
    source = driver_frames(700, 3, 520)
    for number, frame in source.items():
        frame["Status"] = ["OnTrack"] * (len(frame) - 1) + ["OffTrack"]
        frame["X"] = np.where(np.arange(len(frame)) % 7 == 0, np.nan, 1.0 * np.arange(len(frame)))
    [batch] = list(driver_batches(source))
    packed = pack_columns(table_columns(table, batch, KEY, broadcast_keys=True), len(batch),
                          layout)
    pd.testing.assert_frame_equal(packed, pack(table_frame(table, batch, KEY), layout))
    assert len(packed) == 8    # 512 + 187 + 1 (the text changes), 2 + 1, 512 + 7 + 1


def test_telemetry_of_no_driver_is_no_chunk():
    assert list(session_tables({"positions": {}}, ("positions",), KEY)["positions"]) == []


def test_session_tables_keep_table_order_and_skip_what_fastf1_did_not_give():
    fetched = {"session_status": pd.DataFrame({"Time": pd.to_timedelta(["0:00:01"]),
                                               "Status": ["Started"]}),
               "results": pd.DataFrame({"DriverNumber": ["44"]})}
    tables = session_tables(fetched, ("results", "laps", "session_status"), KEY)
    assert list(tables) == ["results", "session_status"]
    [results] = list(tables["results"])
    assert results["driver_number"].tolist() == ["44"]


# --- the weekend's kinds: dates and lists -----------------------------------------------------

def test_dates_keep_the_day_and_refuse_a_time_of_day():
    days = convert(pd.Series([pd.Timestamp("1997-10-16"), pd.NaT]), "date", column="d")
    assert list(days.dt.date[:1]) == [pd.Timestamp("1997-10-16").date()] and pd.isna(days[1])
    local = convert(pd.Series([pd.Timestamp("2021-09-12", tz="Asia/Baku")]), "date")
    assert list(local.dt.date) == [pd.Timestamp("2021-09-12").date()]    # not the UTC day
    with pytest.raises(TransformError, match="d: value 2021-09-12 13:00:00 is not a date"):
        convert(pd.Series([pd.Timestamp("2021-09-12 13:00")]), "date", column="d")


def test_lists_become_json_array_text_and_missing_stays_missing():
    lists = convert(pd.Series([["red_bull"], ["mclaren", "williams"], [], None, np.nan,
                               "ferrari", ["ünï"]]), "json_list")
    assert list(lists) == ['["red_bull"]', '["mclaren", "williams"]', "[]", None, None,
                           '["ferrari"]', '["ünï"]']


def test_tables_of_a_session_leave_the_standings_to_the_race():
    from f1db.models import TABLE_NAMES
    from f1db.selection import tables_of_session

    race = tables_of_session(TABLE_NAMES, "Race")
    assert {"driver_standings", "constructor_standings"} <= set(race)
    assert set(TABLE_NAMES) - set(tables_of_session(TABLE_NAMES, "Sprint")) == {
        "driver_standings", "constructor_standings"}
