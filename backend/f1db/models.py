"""SQLAlchemy models: the tables of the data contract (docs/DATA.md, "The data contract in
detail").

Every table is declared here once, and the other stages read these declarations instead of
keeping lists of their own:

* ``__source__`` on each fact model says which FastF1 ``Session`` attribute fills it, which
  ``Session.load`` option it needs and whether FastF1 may legitimately give no rows;
  fetch reads it (``fact_sources``).
* each column's ``info`` says which FastF1 column it comes from (``source``) and its
  storage kind (``kind``); the transform converts by it and both loaders write by it.

Every fact table's primary key is its unique constraint: the session key (year,
round_number, session_type) then the table's natural key; tables kept once per event
(``EventKeyMixin``: the circuit, the standings) start with (year, round_number) only.
Live timing repeats timestamps, so event-like tables use the row's position in FastF1's
DataFrame (``sequence``) and telemetry uses a per-driver ``sample_index``; neither can
merge two real rows.

``telemetry`` and ``positions`` hold nearly all the rows, so their columns are as narrow as
FastF1's values allow (``sql_type``; the transform refuses a value that does not fit) and
in an order that leaves PostgreSQL no alignment padding: fixed-width columns widest first,
text last (docs/DATA.md, "Storage of the big tables").

The calendar (``events``, ``event_sessions``) is FastF1's schedule, refreshed by every
run; ``stints`` and ``pit_stops`` are views over ``laps`` (revision 0005) and
``race_features`` one over results, standings and weather (revision 0006; ``VIEW_NAMES``).
The ledger is ``sessions`` (one row per stored session, written in the same transaction as
its rows) and ``session_parts`` (one row per table ever asked for: loaded, partial or
missing); ``session_failures`` keeps why a session that is not stored last failed.
Adding a fact table = a model here plus an Alembic revision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (DDL, BigInteger, Boolean, Column, Date, DateTime, Float,
                        ForeignKeyConstraint, Integer, LargeBinary, MetaData,
                        PrimaryKeyConstraint, SmallInteger, String, Table, Text,
                        UniqueConstraint, event)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# How a FastF1 column is stored. "duration_ms": Timedelta -> integer milliseconds;
# "timestamp_utc": naive UTC datetime; "integer": float-with-NaN counts -> nullable int;
# "date": a calendar day (the schedule's local event day, a birth date); "json_list": a
# list (a driver's constructors in a season) as JSON array text, e.g. '["red_bull"]';
# "bytes": packed samples (packing.py), bytea / BLOB.
KINDS = ("text", "integer", "real", "flag", "duration_ms", "timestamp_utc", "date",
         "json_list", "bytes")
# Each kind's SQL type unless a column narrows it (``sql_type``: SmallInteger, Integer).
_SQL_TYPES = {"text": Text, "integer": Integer, "real": Float, "flag": Boolean,
              "duration_ms": BigInteger, "timestamp_utc": DateTime, "date": Date,
              "json_list": Text, "bytes": LargeBinary}
_INTEGER_KINDS = ("integer", "duration_ms")


# SQL integer types and the values they hold, most specific first (SQLAlchemy's SmallInteger
# and BigInteger are subclasses of Integer).
_INTEGER_RANGES = ((SmallInteger, "smallint", -2**15, 2**15 - 1),
                   (BigInteger, "bigint", -2**63, 2**63 - 1),
                   (Integer, "integer", -2**31, 2**31 - 1))


def integer_range(sql_type) -> tuple[str, int, int] | None:
    """(name, lowest, highest) of an SQL integer type; None for any other type."""
    for cls, name, low, high in _INTEGER_RANGES:
        if isinstance(sql_type, cls):
            return name, low, high
    return None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class FastF1Part:
    """Where a fact table comes from in FastF1.

    ``attribute``: the loaded ``fastf1.core.Session`` attribute (or, for a table whose
    reader does more, what it reads, for the docs); ``load_option``: the ``Session.load``
    keyword that must be true for it (None: FastF1 always loads it with the laps);
    ``per_driver``: the attribute is a dict of per-driver frames (``car_data``,
    ``pos_data``);
    ``may_be_empty``: an empty frame is a real answer (no message, no status change), not
    a missing part.

    Each table's reader is registered under its name (sources/readers.py); one that is
    not a plain ``Session`` attribute says what it costs: ``needs_load``: False when the
    reader does not read a loaded ``Session`` at all (the Jolpica standings: a run that
    only lacks them makes no ``Session.load``); ``call``: the extra request the reader
    makes (sources/fastf1_costs.CALL_REQUESTS; tables sharing one call, like the circuit's
    two, pay it once); ``session_types``: the only sessions that have the part (None:
    all); ``with_every_load``: rewritten whenever its session is loaded anyway, because a
    later load can know more (``t0_date`` needs telemetry, marker distances the fastest
    lap's positions); ``without_live_timing``: the sessions that have the part before F1's
    live timing (FastF1's ``F1ApiSupport`` false, the seasons before 2018), where FastF1
    gives only what Jolpica has (None: every session the part applies to; empty: none);
    ``jolpica_since``: (session type, first season) pairs for a part Jolpica has only
    from some season on (qualifying results from 1994, constructors' standings from
    1958). For the others the part cannot exist: it is recorded as not available, never
    missing.
    """

    attribute: str
    load_option: str | None = None
    per_driver: bool = False
    may_be_empty: bool = False
    needs_load: bool = True
    call: str | None = None
    session_types: tuple[str, ...] | None = None
    with_every_load: bool = False
    without_live_timing: tuple[str, ...] | None = ()
    jolpica_since: tuple[tuple[str, int], ...] = ()

    def applies_to(self, session_type: str) -> bool:
        return self.session_types is None or session_type in self.session_types

    def exists(self, session_type: str, live_timing: bool, year: int | None = None) -> bool:
        """Whether the part can exist for a session of the era (``live_timing``: FastF1's
        ``F1ApiSupport``; ``year``: its season) that it applies to."""
        if live_timing:
            return True
        first = dict(self.jolpica_since).get(session_type)
        if first is not None and year is not None and year < first:
            return False
        return self.without_live_timing is None or session_type in self.without_live_timing


def fastf1_column(source: str, kind: str, *, key: bool = False, sql_type=None):
    """A column filled from FastF1's column ``source``; ``key`` marks the natural key.

    ``sql_type`` narrows an integer kind's SQL type (SmallInteger, Integer) where FastF1's
    values are known to fit: the transform checks every value against the column's type
    and refuses one that does not fit, so a narrower type never changes a stored value.
    """
    assert kind in KINDS, kind
    assert sql_type is None or kind in _INTEGER_KINDS, (kind, sql_type)
    return mapped_column((sql_type or _SQL_TYPES[kind])(), primary_key=key, nullable=not key,
                         info={"source": source, "kind": kind})


def derived_key(kind: str = "integer"):
    """A natural-key column the transform computes (driver_number, sample_index, sequence)."""
    return mapped_column(_SQL_TYPES[kind](), primary_key=True,
                         info={"derived": True, "kind": kind})


def row_order():
    """The row's position in FastF1's own frame (``results``, ``laps``), computed by the
    transform: FastF1 orders those frames by rules no stored column reproduces (ties and
    NaN positions, drivers in timing order), and the read side gives them back in it."""
    return mapped_column(Integer, nullable=True, info={"derived": True, "kind": "integer"})


def session_type_column(sort_order: int = 0):
    """The session key's ``session_type`` (FastF1's ``Session.name``)."""
    return mapped_column(String(40), primary_key=True, sort_order=sort_order,
                         info={"session_key": True, "kind": "text"})


class EventKeyMixin:
    """The event part of the session key, on tables kept once per event (the circuit's
    layout, the standings after a round): a session's load writes its event's rows."""

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, sort_order=-3,
                                      info={"session_key": True, "kind": "integer"})
    round_number: Mapped[int] = mapped_column(SmallInteger, primary_key=True, sort_order=-2,
                                              info={"session_key": True, "kind": "integer"})


class SessionKeyMixin(EventKeyMixin):
    """Session metadata on every fact row; the first three columns of each primary key.

    They come first in every table (``sort_order``); telemetry and positions redeclare
    ``session_type`` to move the variable-width text behind their fixed-width columns.
    """

    session_type: Mapped[str] = session_type_column(sort_order=-1)


# PostgreSQL leaves a B-tree leaf at its fillfactor (default 90) when ascending inserts
# split it. Telemetry and positions rows arrive in key order (the transform streams drivers
# sorted) and are never updated, so the 10 % kept free would stay empty: pack the key index.
PACKED_FILLFACTOR = 100


def row_view_key() -> PrimaryKeyConstraint:
    """The key of the rows a view of packed samples gives (session, driver, sample): their
    order in a session, as FastF1 keeps them; the chunk tables hold the real key."""
    return PrimaryKeyConstraint("year", "round_number", "session_type", "driver_number",
                                "sample_index")


def _apply_key_fillfactor(table: Table) -> None:
    """Create the table's primary key index with ``info["fillfactor"]`` on PostgreSQL.

    SQLAlchemy has no PostgreSQL ``WITH (...)`` for a primary key; setting it on the empty
    index right after CREATE TABLE is the same as creating it with it. The Alembic revision
    spells out the same (``0004``), and test_storage_types checks that both agree.
    """
    fillfactor = table.primary_key.info.get("fillfactor")
    if fillfactor is not None:
        event.listen(table, "after_create", DDL(
            f"ALTER INDEX pk_{table.name} SET (fillfactor = {int(fillfactor)})"
        ).execute_if(dialect="postgresql"))


class StoredSession(Base):
    """The ledger: one row per stored session, written in the transaction of its rows."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("year", "round_number", "session_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    round_number: Mapped[int] = mapped_column(SmallInteger)
    session_type: Mapped[str] = mapped_column(String(40))
    event_name: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    event_format: Mapped[str | None] = mapped_column(Text)
    session_start_utc: Mapped[dt.datetime | None] = mapped_column(DateTime)
    fastf1_version: Mapped[str] = mapped_column(String(20))
    loaded_at_utc: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at_utc: Mapped[dt.datetime] = mapped_column(DateTime)


class SessionPart(Base):
    """The ledger's status of one table of one stored session (records.PartStatus).

    A table never asked for has no row. ``reason`` says why a part is partial or missing.
    """

    __tablename__ = "session_parts"
    __table_args__ = (ForeignKeyConstraint(
        ["year", "round_number", "session_type"],
        ["sessions.year", "sessions.round_number", "sessions.session_type"],
        ondelete="CASCADE"),)

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    round_number: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    session_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at_utc: Mapped[dt.datetime] = mapped_column(DateTime)


class SessionFailure(Base):
    """The last failure of a session that is not stored (yet): shown by ``--plan``.

    Written in its own small transaction after the session's was rolled back, and deleted
    in the transaction that finally stores the session. No foreign key: the session it
    is about has no ``sessions`` row.
    """

    __tablename__ = "session_failures"

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    round_number: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    session_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_name: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    failed_runs: Mapped[int] = mapped_column(Integer)     # runs that gave up on it so far
    failed_at_utc: Mapped[dt.datetime] = mapped_column(DateTime)


class Result(SessionKeyMixin, Base):
    """``Session.results``: one row per driver."""

    __tablename__ = "results"
    # Before live timing FastF1 takes results from Jolpica, which has those of the race,
    # the qualifying and the sprint (none of practice).
    __source__ = FastF1Part("results",
                            without_live_timing=("Qualifying", "Sprint", "Race"),
                            jolpica_since=(("Qualifying", 1994),))

    driver_number: Mapped[str] = fastf1_column("DriverNumber", "text", key=True)
    broadcast_name: Mapped[str | None] = fastf1_column("BroadcastName", "text")
    abbreviation: Mapped[str | None] = fastf1_column("Abbreviation", "text")
    driver_id: Mapped[str | None] = fastf1_column("DriverId", "text")
    team_name: Mapped[str | None] = fastf1_column("TeamName", "text")
    team_color: Mapped[str | None] = fastf1_column("TeamColor", "text")
    team_id: Mapped[str | None] = fastf1_column("TeamId", "text")
    first_name: Mapped[str | None] = fastf1_column("FirstName", "text")
    last_name: Mapped[str | None] = fastf1_column("LastName", "text")
    full_name: Mapped[str | None] = fastf1_column("FullName", "text")
    headshot_url: Mapped[str | None] = fastf1_column("HeadshotUrl", "text")
    country_code: Mapped[str | None] = fastf1_column("CountryCode", "text")
    position: Mapped[int | None] = fastf1_column("Position", "integer")
    classified_position: Mapped[str | None] = fastf1_column("ClassifiedPosition", "text")
    grid_position: Mapped[int | None] = fastf1_column("GridPosition", "integer")
    q1_ms: Mapped[int | None] = fastf1_column("Q1", "duration_ms")
    q2_ms: Mapped[int | None] = fastf1_column("Q2", "duration_ms")
    q3_ms: Mapped[int | None] = fastf1_column("Q3", "duration_ms")
    time_ms: Mapped[int | None] = fastf1_column("Time", "duration_ms")
    status: Mapped[str | None] = fastf1_column("Status", "text")
    points: Mapped[float | None] = fastf1_column("Points", "real")
    laps: Mapped[int | None] = fastf1_column("Laps", "integer")
    row_order: Mapped[int | None] = row_order()


class Lap(SessionKeyMixin, Base):
    """``Session.laps``: one row per driver and lap."""

    __tablename__ = "laps"
    __source__ = FastF1Part("laps")

    driver_number: Mapped[str] = fastf1_column("DriverNumber", "text", key=True)
    lap_number: Mapped[int] = fastf1_column("LapNumber", "integer", key=True)
    time_ms: Mapped[int | None] = fastf1_column("Time", "duration_ms")
    driver: Mapped[str | None] = fastf1_column("Driver", "text")
    lap_time_ms: Mapped[int | None] = fastf1_column("LapTime", "duration_ms")
    stint: Mapped[int | None] = fastf1_column("Stint", "integer")
    pit_out_time_ms: Mapped[int | None] = fastf1_column("PitOutTime", "duration_ms")
    pit_in_time_ms: Mapped[int | None] = fastf1_column("PitInTime", "duration_ms")
    sector1_time_ms: Mapped[int | None] = fastf1_column("Sector1Time", "duration_ms")
    sector2_time_ms: Mapped[int | None] = fastf1_column("Sector2Time", "duration_ms")
    sector3_time_ms: Mapped[int | None] = fastf1_column("Sector3Time", "duration_ms")
    sector1_session_time_ms: Mapped[int | None] = fastf1_column("Sector1SessionTime", "duration_ms")
    sector2_session_time_ms: Mapped[int | None] = fastf1_column("Sector2SessionTime", "duration_ms")
    sector3_session_time_ms: Mapped[int | None] = fastf1_column("Sector3SessionTime", "duration_ms")
    speed_i1: Mapped[float | None] = fastf1_column("SpeedI1", "real")
    speed_i2: Mapped[float | None] = fastf1_column("SpeedI2", "real")
    speed_fl: Mapped[float | None] = fastf1_column("SpeedFL", "real")
    speed_st: Mapped[float | None] = fastf1_column("SpeedST", "real")
    is_personal_best: Mapped[bool | None] = fastf1_column("IsPersonalBest", "flag")
    compound: Mapped[str | None] = fastf1_column("Compound", "text")
    tyre_life: Mapped[int | None] = fastf1_column("TyreLife", "integer")
    fresh_tyre: Mapped[bool | None] = fastf1_column("FreshTyre", "flag")
    team: Mapped[str | None] = fastf1_column("Team", "text")
    lap_start_time_ms: Mapped[int | None] = fastf1_column("LapStartTime", "duration_ms")
    lap_start_date_utc: Mapped[dt.datetime | None] = fastf1_column("LapStartDate", "timestamp_utc")
    track_status: Mapped[str | None] = fastf1_column("TrackStatus", "text")
    position: Mapped[int | None] = fastf1_column("Position", "integer")
    deleted: Mapped[bool | None] = fastf1_column("Deleted", "flag")
    deleted_reason: Mapped[str | None] = fastf1_column("DeletedReason", "text")
    fast_f1_generated: Mapped[bool | None] = fastf1_column("FastF1Generated", "flag")
    is_accurate: Mapped[bool | None] = fastf1_column("IsAccurate", "flag")
    row_order: Mapped[int | None] = row_order()


class Weather(SessionKeyMixin, Base):
    """``Session.weather_data``: about one sample a minute."""

    __tablename__ = "weather"
    __source__ = FastF1Part("weather_data", load_option="weather")

    sequence: Mapped[int] = derived_key()
    time_ms: Mapped[int | None] = fastf1_column("Time", "duration_ms")
    air_temp: Mapped[float | None] = fastf1_column("AirTemp", "real")
    humidity: Mapped[float | None] = fastf1_column("Humidity", "real")
    pressure: Mapped[float | None] = fastf1_column("Pressure", "real")
    rainfall: Mapped[bool | None] = fastf1_column("Rainfall", "flag")
    track_temp: Mapped[float | None] = fastf1_column("TrackTemp", "real")
    wind_direction: Mapped[int | None] = fastf1_column("WindDirection", "integer")
    wind_speed: Mapped[float | None] = fastf1_column("WindSpeed", "real")


class Telemetry(SessionKeyMixin, Base):
    """``Session.car_data[driver]`` for every driver: about 4 samples a second.

    A view (revision 0010) over ``telemetry_chunks``, where the samples are stored packed
    (packing.py); the transform still shapes FastF1's frames as these rows, and the view
    gives them back with these columns and types. FastF1 keeps RPM, Speed and Throttle as
    float64 but they are whole numbers (and nGear, DRS int64): all fit smallint. Times are
    milliseconds within the session: integer.
    """

    __tablename__ = "telemetry"
    __table_args__ = (row_view_key(),)
    __source__ = FastF1Part("car_data", load_option="telemetry", per_driver=True)

    sample_index: Mapped[int] = derived_key()
    date_utc: Mapped[dt.datetime | None] = fastf1_column("Date", "timestamp_utc")
    session_time_ms: Mapped[int | None] = fastf1_column("SessionTime", "duration_ms",
                                                        sql_type=Integer)
    time_ms: Mapped[int | None] = fastf1_column("Time", "duration_ms", sql_type=Integer)
    rpm: Mapped[int | None] = fastf1_column("RPM", "integer", sql_type=SmallInteger)
    speed: Mapped[int | None] = fastf1_column("Speed", "integer", sql_type=SmallInteger)
    n_gear: Mapped[int | None] = fastf1_column("nGear", "integer", sql_type=SmallInteger)
    throttle: Mapped[int | None] = fastf1_column("Throttle", "integer", sql_type=SmallInteger)
    drs: Mapped[int | None] = fastf1_column("DRS", "integer", sql_type=SmallInteger)
    brake: Mapped[bool | None] = fastf1_column("Brake", "flag")
    session_type: Mapped[str] = session_type_column()
    driver_number: Mapped[str] = derived_key("text")
    source: Mapped[str | None] = fastf1_column("Source", "text")


class Position(SessionKeyMixin, Base):
    """``Session.pos_data[driver]`` for every driver: about 4 samples a second.

    A view over ``positions_chunks``, like ``telemetry``. X, Y and Z are whole numbers
    (1/10 m since 2020) that can pass +-32767: integer.
    """

    __tablename__ = "positions"
    __table_args__ = (row_view_key(),)
    __source__ = FastF1Part("pos_data", load_option="telemetry", per_driver=True)

    sample_index: Mapped[int] = derived_key()
    date_utc: Mapped[dt.datetime | None] = fastf1_column("Date", "timestamp_utc")
    session_time_ms: Mapped[int | None] = fastf1_column("SessionTime", "duration_ms",
                                                        sql_type=Integer)
    time_ms: Mapped[int | None] = fastf1_column("Time", "duration_ms", sql_type=Integer)
    x: Mapped[int | None] = fastf1_column("X", "integer")
    y: Mapped[int | None] = fastf1_column("Y", "integer")
    z: Mapped[int | None] = fastf1_column("Z", "integer")
    session_type: Mapped[str] = session_type_column()
    driver_number: Mapped[str] = derived_key("text")
    status: Mapped[str | None] = fastf1_column("Status", "text")
    source: Mapped[str | None] = fastf1_column("Source", "text")


def packed_chunks(rows: Table, name: str) -> Table:
    """The table that stores ``rows``' samples packed (packing.py): one row per driver and
    run of up to 512 samples, keyed by the session, the driver and the run's first
    ``sample_index``. Whole-number columns become ``<column>_base`` (bigint) and
    ``<column>`` (the offsets, bytea / BLOB); text columns stay text (one value a chunk).
    Fixed-width columns first (PostgreSQL alignment), the packed bytes last."""
    def column(column_name: str, sql_type, kind: str, *, key: bool = False, **info):
        return Column(column_name, sql_type, nullable=not key, info={"kind": kind, **info})

    fixed = (key for key in rows.columns if key.name not in ("year", "round_number",
                                                             "session_type", "driver_number",
                                                             "sample_index"))
    numbers = [c.name for c in fixed if c.info["kind"] != "text"]
    texts = [c.name for c in rows.columns
             if c.info["kind"] == "text" and c.name not in ("session_type", "driver_number")]
    table = Table(
        name, Base.metadata,
        column("year", SmallInteger(), "integer", key=True, session_key=True),
        column("round_number", SmallInteger(), "integer", key=True, session_key=True),
        column("first_sample", Integer(), "integer", key=True, derived=True),
        column("samples", SmallInteger(), "integer", key=True),
        column("start_ms", Integer(), "integer"),
        column("end_ms", Integer(), "integer"),
        *(column(f"{number}_base", BigInteger(), "integer") for number in numbers),
        column("session_type", String(40), "text", key=True, session_key=True),
        column("driver_number", Text(), "text", key=True, derived=True),
        *(column(text, Text(), "text") for text in texts),
        *(column(number, LargeBinary(), "bytes", key=True) for number in numbers),
        PrimaryKeyConstraint("year", "round_number", "session_type", "driver_number",
                             "first_sample", info={"fillfactor": PACKED_FILLFACTOR}),
        info={"packs": rows.name})
    _apply_key_fillfactor(table)
    return table


# The samples of car data and positions, packed (packing.py); ``telemetry`` and
# ``positions`` are views over them (revision 0010) that read them back as rows, with
# ``sample_numbers`` (0..511) giving each chunk's samples their places.
PACKED_TABLES = {"telemetry": packed_chunks(Telemetry.__table__, "telemetry_chunks"),
                 "positions": packed_chunks(Position.__table__, "positions_chunks")}
SAMPLE_NUMBERS = Table("sample_numbers", Base.metadata,
                       Column("i", SmallInteger(), primary_key=True,
                              info={"kind": "integer"}))


def stored_table(name: str) -> Table:
    """The table that holds the rows of table ``name``: its chunk table for ``telemetry``
    and ``positions`` (views of rows), the table itself otherwise."""
    return PACKED_TABLES[name] if name in PACKED_TABLES else Base.metadata.tables[name]


class SessionStatus(SessionKeyMixin, Base):
    """``Session.session_status``: Started, Aborted, Finished, ..."""

    __tablename__ = "session_status"
    __source__ = FastF1Part("session_status", may_be_empty=True)

    sequence: Mapped[int] = derived_key()
    time_ms: Mapped[int | None] = fastf1_column("Time", "duration_ms")
    status: Mapped[str | None] = fastf1_column("Status", "text")


class TrackStatus(SessionKeyMixin, Base):
    """``Session.track_status``: flags, safety car, red flag periods."""

    __tablename__ = "track_status"
    __source__ = FastF1Part("track_status", may_be_empty=True)

    sequence: Mapped[int] = derived_key()
    time_ms: Mapped[int | None] = fastf1_column("Time", "duration_ms")
    status: Mapped[str | None] = fastf1_column("Status", "text")
    message: Mapped[str | None] = fastf1_column("Message", "text")


class RaceControlMessage(SessionKeyMixin, Base):
    """``Session.race_control_messages``: flags, penalties, deleted laps."""

    __tablename__ = "race_control_messages"
    __source__ = FastF1Part("race_control_messages", may_be_empty=True)

    sequence: Mapped[int] = derived_key()
    time_utc: Mapped[dt.datetime | None] = fastf1_column("Time", "timestamp_utc")
    category: Mapped[str | None] = fastf1_column("Category", "text")
    message: Mapped[str | None] = fastf1_column("Message", "text")
    status: Mapped[str | None] = fastf1_column("Status", "text")
    flag: Mapped[str | None] = fastf1_column("Flag", "text")
    scope: Mapped[str | None] = fastf1_column("Scope", "text")
    sector: Mapped[int | None] = fastf1_column("Sector", "integer")
    racing_number: Mapped[str | None] = fastf1_column("RacingNumber", "text")
    lap: Mapped[int | None] = fastf1_column("Lap", "integer")


class SessionInfo(SessionKeyMixin, Base):
    """``Session.session_info`` (live timing's SessionInfo) with ``t0_date``,
    ``session_start_time`` and ``total_laps``: one row per session.

    The nested keys are flattened (``Meeting.Circuit.Key`` -> ``circuit_key``); FastF1's
    local ``StartDate``/``EndDate`` are stored in UTC (minus ``GmtOffset``). ``t0_date``
    needs telemetry and ``total_laps`` exists for race-like sessions only: NULL otherwise.
    """

    __tablename__ = "session_info"
    __source__ = FastF1Part("session_info", with_every_load=True)

    meeting_key: Mapped[int | None] = fastf1_column("MeetingKey", "integer")
    meeting_name: Mapped[str | None] = fastf1_column("MeetingName", "text")
    meeting_official_name: Mapped[str | None] = fastf1_column("MeetingOfficialName", "text")
    meeting_location: Mapped[str | None] = fastf1_column("MeetingLocation", "text")
    country_key: Mapped[int | None] = fastf1_column("CountryKey", "integer")
    country_code: Mapped[str | None] = fastf1_column("CountryCode", "text")
    country_name: Mapped[str | None] = fastf1_column("CountryName", "text")
    circuit_key: Mapped[int | None] = fastf1_column("CircuitKey", "integer")
    circuit_short_name: Mapped[str | None] = fastf1_column("CircuitShortName", "text")
    session_key: Mapped[int | None] = fastf1_column("Key", "integer")
    type: Mapped[str | None] = fastf1_column("Type", "text")
    number: Mapped[int | None] = fastf1_column("Number", "integer")
    name: Mapped[str | None] = fastf1_column("Name", "text")
    path: Mapped[str | None] = fastf1_column("Path", "text")
    archive_status: Mapped[str | None] = fastf1_column("ArchiveStatus", "text")
    start_date_utc: Mapped[dt.datetime | None] = fastf1_column("StartDateUtc", "timestamp_utc")
    end_date_utc: Mapped[dt.datetime | None] = fastf1_column("EndDateUtc", "timestamp_utc")
    gmt_offset_ms: Mapped[int | None] = fastf1_column("GmtOffset", "duration_ms")
    t0_date_utc: Mapped[dt.datetime | None] = fastf1_column("T0Date", "timestamp_utc")
    session_start_time_ms: Mapped[int | None] = fastf1_column("SessionStartTime",
                                                              "duration_ms")
    total_laps: Mapped[int | None] = fastf1_column("TotalLaps", "integer")


class CircuitLayout(EventKeyMixin, Base):
    """``Session.get_circuit_info()``: the track map's rotation, once per event.

    ``distances_from`` is the session whose fastest lap FastF1 measured the markers'
    distances on (NULL distances when it had no laps or positions).
    """

    __tablename__ = "circuit_layouts"
    __source__ = FastF1Part("get_circuit_info()", call="circuit_info", with_every_load=True)

    circuit_key: Mapped[int | None] = fastf1_column("CircuitKey", "integer")
    circuit_short_name: Mapped[str | None] = fastf1_column("CircuitShortName", "text")
    rotation: Mapped[float | None] = fastf1_column("Rotation", "real")
    distances_from: Mapped[str | None] = fastf1_column("DistancesFrom", "text")


class CircuitMarker(EventKeyMixin, Base):
    """``CircuitInfo.corners``, ``.marshal_lights`` and ``.marshal_sectors``, once per event.

    ``marker_type`` says which frame (``corner``, ``marshal_light``, ``marshal_sector``)
    and ``sequence`` is the row's position in it.
    """

    __tablename__ = "circuit_markers"
    __source__ = FastF1Part("get_circuit_info()", call="circuit_info", with_every_load=True)

    marker_type: Mapped[str] = derived_key("text")
    sequence: Mapped[int] = derived_key()
    number: Mapped[int | None] = fastf1_column("Number", "integer")
    letter: Mapped[str | None] = fastf1_column("Letter", "text")
    x: Mapped[float | None] = fastf1_column("X", "real")
    y: Mapped[float | None] = fastf1_column("Y", "real")
    angle: Mapped[float | None] = fastf1_column("Angle", "real")
    distance: Mapped[float | None] = fastf1_column("Distance", "real")


class DriverStanding(EventKeyMixin, Base):
    """The drivers' championship after the round (Jolpica through FastF1's ``Ergast``),
    loaded with the round's race; missing until Jolpica publishes it."""

    __tablename__ = "driver_standings"
    __source__ = FastF1Part("Ergast.get_driver_standings", needs_load=False,
                            call="driver_standings", session_types=("Race",),
                            without_live_timing=None)

    driver_id: Mapped[str] = fastf1_column("driverId", "text", key=True)
    position: Mapped[int | None] = fastf1_column("position", "integer")
    position_text: Mapped[str | None] = fastf1_column("positionText", "text")
    points: Mapped[float | None] = fastf1_column("points", "real")
    wins: Mapped[int | None] = fastf1_column("wins", "integer")
    driver_number: Mapped[int | None] = fastf1_column("driverNumber", "integer")
    driver_code: Mapped[str | None] = fastf1_column("driverCode", "text")
    driver_url: Mapped[str | None] = fastf1_column("driverUrl", "text")
    given_name: Mapped[str | None] = fastf1_column("givenName", "text")
    family_name: Mapped[str | None] = fastf1_column("familyName", "text")
    date_of_birth: Mapped[dt.date | None] = fastf1_column("dateOfBirth", "date")
    driver_nationality: Mapped[str | None] = fastf1_column("driverNationality", "text")
    constructor_ids: Mapped[str | None] = fastf1_column("constructorIds", "json_list")
    constructor_urls: Mapped[str | None] = fastf1_column("constructorUrls", "json_list")
    constructor_names: Mapped[str | None] = fastf1_column("constructorNames", "json_list")
    constructor_nationalities: Mapped[str | None] = fastf1_column(
        "constructorNationalities", "json_list")


class ConstructorStanding(EventKeyMixin, Base):
    """The constructors' championship after the round, like ``driver_standings``."""

    __tablename__ = "constructor_standings"
    __source__ = FastF1Part("Ergast.get_constructor_standings", needs_load=False,
                            call="constructor_standings", session_types=("Race",),
                            without_live_timing=None, jolpica_since=(("Race", 1958),))

    constructor_id: Mapped[str] = fastf1_column("constructorId", "text", key=True)
    position: Mapped[int | None] = fastf1_column("position", "integer")
    position_text: Mapped[str | None] = fastf1_column("positionText", "text")
    points: Mapped[float | None] = fastf1_column("points", "real")
    wins: Mapped[int | None] = fastf1_column("wins", "integer")
    constructor_url: Mapped[str | None] = fastf1_column("constructorUrl", "text")
    constructor_name: Mapped[str | None] = fastf1_column("constructorName", "text")
    constructor_nationality: Mapped[str | None] = fastf1_column("constructorNationality",
                                                                "text")


def schedule_key(sql_type, kind: str):
    """A key column of the calendar tables, read from the schedule frame itself."""
    return mapped_column(sql_type, primary_key=True, info={"derived": True, "kind": kind})


class Event(Base):
    """FastF1's event schedule: one row per event of every season a run reads, loaded or
    not, past or to come; replaced from the schedule on every run (no extra request)."""

    __tablename__ = "events"

    year: Mapped[int] = schedule_key(SmallInteger, "integer")
    round_number: Mapped[int] = schedule_key(SmallInteger, "integer")
    event_name: Mapped[str | None] = fastf1_column("EventName", "text")
    official_event_name: Mapped[str | None] = fastf1_column("OfficialEventName", "text")
    country: Mapped[str | None] = fastf1_column("Country", "text")
    location: Mapped[str | None] = fastf1_column("Location", "text")
    event_format: Mapped[str | None] = fastf1_column("EventFormat", "text")
    event_date: Mapped[dt.date | None] = fastf1_column("EventDate", "date")
    f1_api_support: Mapped[bool | None] = fastf1_column("F1ApiSupport", "flag")


class EventSession(Base):
    """The schedule's sessions of each event (``Session1`` .. ``Session5``): name, number
    and scheduled start in UTC, with the local offset of the circuit."""

    __tablename__ = "event_sessions"
    __table_args__ = (ForeignKeyConstraint(
        ["year", "round_number"], ["events.year", "events.round_number"],
        ondelete="CASCADE"),)

    year: Mapped[int] = schedule_key(SmallInteger, "integer")
    round_number: Mapped[int] = schedule_key(SmallInteger, "integer")
    session_type: Mapped[str] = schedule_key(String(40), "text")
    session_number: Mapped[int | None] = fastf1_column("SessionNumber", "integer",
                                                       sql_type=SmallInteger)
    session_start_utc: Mapped[dt.datetime | None] = fastf1_column("SessionDateUtc",
                                                                  "timestamp_utc")
    gmt_offset_ms: Mapped[int | None] = fastf1_column("GmtOffset", "duration_ms")



# --- Jolpica's history (1950 on): the Ergast API's shape, one source per table -------------

def history_column(kind: str, *, key: bool = False, sql_type=None, sort_order: int = 0):
    """A column of a history table: its storage ``kind`` (models.KINDS); ``key`` marks the
    natural key. Its values are Jolpica's, mapped by ``history_rows`` from the API's JSON
    or from the CSV dump alike (docs/DATA.md, "History tables")."""
    assert kind in KINDS, kind
    return mapped_column((sql_type or _SQL_TYPES[kind])(), primary_key=key, nullable=not key,
                         sort_order=sort_order, info={"kind": kind})


class HistoryRoundMixin:
    """The round a history row belongs to: (year, round_number) start every key, and a
    round's rows are replaced together (history_store.py)."""

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, sort_order=-3,
                                      info={"kind": "integer"})
    round_number: Mapped[int] = mapped_column(SmallInteger, primary_key=True, sort_order=-2,
                                              info={"kind": "integer"})


class HistoryDriver(Base):
    """Every driver of a stored history round (the API's ``Driver``); ``driver_id`` is
    the ``DriverId`` of FastF1's results, so the eras join."""

    __tablename__ = "history_drivers"

    driver_id: Mapped[str] = history_column("text", key=True)
    code: Mapped[str | None] = history_column("text")
    permanent_number: Mapped[int | None] = history_column("integer")
    given_name: Mapped[str | None] = history_column("text")
    family_name: Mapped[str | None] = history_column("text")
    date_of_birth: Mapped[dt.date | None] = history_column("date")
    nationality: Mapped[str | None] = history_column("text")
    url: Mapped[str | None] = history_column("text")


class HistoryConstructor(Base):
    """Every constructor of a stored history round (the API's ``Constructor``);
    ``constructor_id`` is the ``TeamId`` of FastF1's results."""

    __tablename__ = "history_constructors"

    constructor_id: Mapped[str] = history_column("text", key=True)
    name: Mapped[str | None] = history_column("text")
    nationality: Mapped[str | None] = history_column("text")
    url: Mapped[str | None] = history_column("text")


class HistoryCircuit(Base):
    """Every circuit of a stored history round (the API's ``Circuit``)."""

    __tablename__ = "history_circuits"

    circuit_id: Mapped[str] = history_column("text", key=True)
    circuit_name: Mapped[str | None] = history_column("text")
    locality: Mapped[str | None] = history_column("text")
    country: Mapped[str | None] = history_column("text")
    latitude: Mapped[float | None] = history_column("real")
    longitude: Mapped[float | None] = history_column("real")
    url: Mapped[str | None] = history_column("text")


class HistoryRace(HistoryRoundMixin, Base):
    """One row per stored round (the API's ``Race``), with where its rows came from:
    ``source`` is "dump" or "api", ``dump_date`` the Jolpica dump's date, ``digest`` the
    SHA-256 of the round's rows, compared on the next run to store only what changed."""

    __tablename__ = "history_races"

    race_name: Mapped[str | None] = history_column("text")
    circuit_id: Mapped[str | None] = history_column("text")
    race_date: Mapped[dt.date | None] = history_column("date")
    race_time_utc: Mapped[str | None] = history_column("text")
    url: Mapped[str | None] = history_column("text")
    source: Mapped[str] = mapped_column(String(10), info={"kind": "text", "ledger": True})
    dump_date: Mapped[dt.date | None] = mapped_column(Date, info={"kind": "date",
                                                                  "ledger": True})
    digest: Mapped[str] = mapped_column(String(64), info={"kind": "text", "ledger": True})
    stored_at_utc: Mapped[dt.datetime] = mapped_column(DateTime, info={"kind": "timestamp_utc",
                                                                       "ledger": True})


class _HistoryResultColumns(HistoryRoundMixin):
    position: Mapped[int] = history_column("integer", key=True)
    position_text: Mapped[str | None] = history_column("text")
    car_number: Mapped[int | None] = history_column("integer")
    driver_id: Mapped[str | None] = history_column("text")
    constructor_id: Mapped[str | None] = history_column("text")
    grid: Mapped[int | None] = history_column("integer")
    laps: Mapped[int | None] = history_column("integer")
    status: Mapped[str | None] = history_column("text")
    points: Mapped[float | None] = history_column("real")
    time_ms: Mapped[int | None] = history_column("duration_ms")
    fastest_lap_rank: Mapped[int | None] = history_column("integer")
    fastest_lap_number: Mapped[int | None] = history_column("integer")
    fastest_lap_time_ms: Mapped[int | None] = history_column("duration_ms")
    fastest_lap_average_speed_kph: Mapped[float | None] = history_column("real")


class HistoryResult(_HistoryResultColumns, Base):
    """The race result (the API's ``Results``): one row per entry, keyed by its finishing
    order (a 1950s driver who shared two cars has two rows)."""

    __tablename__ = "history_results"


class HistorySprintResult(_HistoryResultColumns, Base):
    """The sprint result (the API's ``SprintResults``), like ``history_results``."""

    __tablename__ = "history_sprint_results"


class HistoryQualifying(HistoryRoundMixin, Base):
    """The qualifying result (the API's ``QualifyingResults``): each part's best lap."""

    __tablename__ = "history_qualifying"

    position: Mapped[int] = history_column("integer", key=True)
    car_number: Mapped[int | None] = history_column("integer")
    driver_id: Mapped[str | None] = history_column("text")
    constructor_id: Mapped[str | None] = history_column("text")
    q1_ms: Mapped[int | None] = history_column("duration_ms")
    q2_ms: Mapped[int | None] = history_column("duration_ms")
    q3_ms: Mapped[int | None] = history_column("duration_ms")


class HistoryLapTime(HistoryRoundMixin, Base):
    """The race's lap times (the API's ``Laps``; Jolpica has them from 1996)."""

    __tablename__ = "history_lap_times"

    driver_id: Mapped[str] = history_column("text", key=True)
    lap_number: Mapped[int] = history_column("integer", key=True)
    position: Mapped[int | None] = history_column("integer")
    time_ms: Mapped[int | None] = history_column("duration_ms")


class HistoryPitStop(HistoryRoundMixin, Base):
    """The race's pit stops (the API's ``PitStops``; Jolpica has them from 2011);
    ``local_time`` is the time of day at the circuit as Jolpica gives it."""

    __tablename__ = "history_pit_stops"

    driver_id: Mapped[str] = history_column("text", key=True)
    stop: Mapped[int] = history_column("integer", key=True)
    lap_number: Mapped[int | None] = history_column("integer")
    local_time: Mapped[str | None] = history_column("text")
    duration_ms: Mapped[int | None] = history_column("duration_ms")


class _HistoryStandingColumns(HistoryRoundMixin):
    position: Mapped[int | None] = history_column("integer")
    position_text: Mapped[str | None] = history_column("text")
    points: Mapped[float | None] = history_column("real")
    wins: Mapped[int | None] = history_column("integer")


class HistoryDriverStanding(_HistoryStandingColumns, Base):
    """The drivers' championship after the round (the API's ``DriverStandings``)."""

    __tablename__ = "history_driver_standings"

    driver_id: Mapped[str] = history_column("text", key=True)
    constructor_ids: Mapped[str | None] = history_column("json_list", sort_order=1)


class HistoryConstructorStanding(_HistoryStandingColumns, Base):
    """The constructors' championship after the round (the API's
    ``ConstructorStandings``; Jolpica has it from 1958)."""

    __tablename__ = "history_constructor_standings"

    constructor_id: Mapped[str] = history_column("text", key=True)


FACT_MODELS = (Result, Lap, Weather, Telemetry, Position, SessionStatus, TrackStatus,
               RaceControlMessage, SessionInfo, CircuitLayout, CircuitMarker, DriverStanding,
               ConstructorStanding)
TABLE_NAMES = tuple(model.__tablename__ for model in FACT_MODELS)
TELEMETRY_TABLES = tuple(model.__tablename__ for model in FACT_MODELS
                         if model.__source__.load_option == "telemetry")
EVENT_TABLES = tuple(model.__tablename__ for model in FACT_MODELS
                     if not issubclass(model, SessionKeyMixin))    # kept once per event
LEDGER_MODELS = (StoredSession, SessionPart, SessionFailure)
SCHEDULE_MODELS = (Event, EventSession)
# Views over the fact tables (same SQL on both databases, docs/DATA.md, "Views"): one row
# per driver and tyre stint, one per pit stop (revision 0005), one per driver per Race and
# Sprint with what was known before it (revision 0006, docs/FEATURES.md).
# Jolpica's history: the tables shared by every round (``driver_id`` and the other ids are
# what the round tables and FastF1's results name), then the round tables, the race first.
HISTORY_REFERENCE_MODELS = (HistoryDriver, HistoryConstructor, HistoryCircuit)
HISTORY_ROUND_MODELS = (HistoryRace, HistoryResult, HistorySprintResult, HistoryQualifying,
                        HistoryLapTime, HistoryPitStop, HistoryDriverStanding,
                        HistoryConstructorStanding)
HISTORY_TABLES = tuple(model.__tablename__
                       for model in HISTORY_REFERENCE_MODELS + HISTORY_ROUND_MODELS)
VIEW_NAMES = ("stints", "pit_stops", "race_features")
# Views that read the packed chunks back as the rows of a fact model (revision 0010).
ROW_VIEWS = tuple(PACKED_TABLES)
# The row tables revision 0010 leaves holding samples for migrate_db.py to pack
# (packed_conversion.py): name -> the view whose chunks they go into.
UNPACKED_TABLES = {f"{view}_unpacked": view for view in ROW_VIEWS}


def stored_tables() -> list[Table]:
    """The models' tables the database holds as tables (the row views left out), in
    dependency order."""
    return [table for table in Base.metadata.sorted_tables if table.name not in ROW_VIEWS]


def fact_sources() -> dict[str, FastF1Part]:
    """Fact table name -> where FastF1 has it, in table order."""
    return {model.__tablename__: model.__source__ for model in FACT_MODELS}
