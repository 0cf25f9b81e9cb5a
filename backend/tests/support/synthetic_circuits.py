"""Circuit layouts for sessions whose MultiViewer answer was not recorded (synthetic).

The recordings hold one circuit layout: Monza as the MultiViewer API gave it for 2020
(``circuits/39/2020``). The 2021 Italian Grand Prix, the one recorded session with
(synthetic) telemetry, is at the same circuit, so its layout request is answered with that
recorded body, unchanged, at the URL FastF1 3.9 asks for 2021. FastF1 parses it with its
own code and measures the markers' distances on the session's fastest lap, exactly as it
would online. The values are Monza's 2020 layout, not a recording of 2021.
"""

from __future__ import annotations

MULTIVIEWER_URL = "https://api.multiviewer.app/api/v1/circuits/{key}/{year}"
MONZA = 39


def circuit_url(circuit_key: int, year: int) -> str:
    return MULTIVIEWER_URL.format(key=circuit_key, year=year)


def reused_layout(responses: dict, circuit_key: int, recorded_year: int, year: int) -> dict:
    """The recorded layout of ``circuit_key`` in ``recorded_year``, served for ``year``."""
    return {circuit_url(circuit_key, year): responses[circuit_url(circuit_key, recorded_year)]}


def monza_2021(responses: dict) -> dict:
    """The 2021 Italian Grand Prix's layout request answered with Monza's recorded 2020 one."""
    return reused_layout(responses, MONZA, 2020, 2021)
