"""--event by name: a name that is not in the season names no event, instead of FastF1's
fuzzy search loading the nearest one (before: "Turkish Grand Prix" in 2024 loaded the
British, "Qatar" in 2019 the Austrian). Read from FastF1's recorded schedules."""

from __future__ import annotations

import pytest

from f1db.errors import UsageError
from f1db.sources.fastf1_source import FastF1Source
from support.synthetic_telemetry import restoring_fastf1_cache

pytestmark = pytest.mark.slow      # reads FastF1's schedules from the recorded cache

FOUND = [
    (2021, "Monza", "Italian Grand Prix"), (2021, "italian", "Italian Grand Prix"),
    (2021, "Silverstone", "British Grand Prix"), (2021, "Turkish", "Turkish Grand Prix"),
    (2021, "Sao Paulo", "São Paulo Grand Prix"), (2021, "São Paulo", "São Paulo Grand Prix"),
    (2021, "Brazil", "São Paulo Grand Prix"), (2021, "Mexico", "Mexico City Grand Prix"),
    (2021, "Austin", "United States Grand Prix"), (2023, "Vegas", "Las Vegas Grand Prix"),
    (2023, "Baku", "Azerbaijan Grand Prix"), (2022, "Imola", "Emilia Romagna Grand Prix"),
    (2020, "Bahrain", "Bahrain Grand Prix"),       # also Sakhir's country: FastF1 breaks ties
    (2021, "Abu Dhabi Grand Prix", "Abu Dhabi Grand Prix"),
]
NOT_IN_THE_SEASON = [(2022, "Turkish"), (2022, "Qatar"), (2021, "Vegas"), (2020, "Vegas"),
                     (2021, "Grand Prix"), (2021, "Narnia"), (2021, "Monzaa")]


@pytest.fixture(scope="module")
def source(recorded_cache):
    with restoring_fastf1_cache():
        source = FastF1Source(cache_dir=recorded_cache, offline=True)
        source.start()
        yield source


@pytest.mark.parametrize("year, name, event", FOUND)
def test_a_name_of_the_season_finds_its_event(source, year, name, event):
    assert source.find_event(source.season(year), name).name == event


@pytest.mark.parametrize("year, name", NOT_IN_THE_SEASON)
def test_a_name_not_in_the_season_lists_the_season_instead_of_guessing(source, year, name):
    season = source.season(year)
    with pytest.raises(UsageError) as refused:
        source.find_event(season, name)
    message = str(refused.value)
    assert refused.value.parameter == "events"
    assert f"No event of {year} matches '{name}'" in message
    assert all(event.name in message for event in season if event.round_number > 0)


def test_over_several_seasons_an_event_is_taken_where_it_exists(recorded_cache, sqlite_url):
    """Miami joined in 2022: ``--year 2021,2023 --event Miami`` selects 2023's Miami and
    nothing of 2021 (a line in the log says so); a name in none of the seasons is still
    the one-line error of a single season."""
    from f1db.populator import DatabasePopulator

    with restoring_fastf1_cache():
        populator = DatabasePopulator((2021, 2023), events=("Miami", "Monza"), offline=True,
                                      cache_dir=recorded_cache, database_url=sqlite_url)
        selection = populator.select()
        assert [(event.year, event.name) for event, _ in selection] == [
            (2021, "Italian Grand Prix"), (2023, "Miami Grand Prix"),
            (2023, "Italian Grand Prix")]
        with pytest.raises(UsageError, match="No event of 2021 matches 'Narnia'"):
            DatabasePopulator((2021, 2023), events=("Narnia",), offline=True,
                              cache_dir=recorded_cache, database_url=sqlite_url).select()
