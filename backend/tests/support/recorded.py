"""What the tests' recorded FastF1 cache holds (conftest's ``recorded_cache`` fixture).

See ../shared/fastf1-recorded/README.md for which parts each recorded session has; the
telemetry and the standings listed here are synthetic (support/synthetic_telemetry.py,
support/synthetic_jolpica.py), made in the exact wire formats.
"""

# Sessions in the `recorded_cache` fixture.
RECORDED_SESSIONS = [
    (2021, "Italian Grand Prix", "FP2"),
    (2021, "Mexico City Grand Prix", "Q"),
    (2023, "Azerbaijan Grand Prix", "Sprint Shootout"),
    (2023, "Azerbaijan Grand Prix", "Sprint"),
    (2020, "Hungarian Grand Prix", "FP2"),
    (2022, "Bahrain Grand Prix", "R"),
    (2020, "Italian Grand Prix", "R"),      # no TimingData (no laps); its layout is recorded
]
# (year, round) whose championship standings the cache holds: synthetic (made from the
# recorded race result, synthetic_jolpica.py), the 2022 Bahrain Grand Prix.
RECORDED_STANDINGS = [(2022, 1)]
# The one session that also gets (synthetic) car telemetry and positions.
RECORDED_TELEMETRY = {"year": 2021, "event": "Italian Grand Prix", "session": "FP2",
                      "seconds": 120, "hz": 4.0}
