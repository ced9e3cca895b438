"""Synthetic event catalogues that pass :mod:`geo.events` validation, at any size.

Events are spread around real places of Kosovo and south Serbia (jittered by
their location precision), dated over 2023 (background context January-April,
the crisis itself May-November), with all six ACLED event types, the three time
and location precisions, fatalities, claims, a few remote events and one or two
sources each. The same ``seed`` always gives the same catalogue.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from geo.events import CRISIS_WINDOW, EVENT_TYPES, VIOLENT_EVENT_TYPES

# (English, Albanian, Serbian name, lon, lat)
PLACES: tuple[tuple[str, str, str, float, float], ...] = (
    ("Pristina", "Prishtinë", "Priština", 21.1655, 42.6629),
    ("North Mitrovica", "Mitrovicë e Veriut", "Severna Mitrovica", 20.8660, 42.8914),
    ("Zvečan", "Zveçan", "Zvečan", 20.8406, 42.9075),
    ("Leposavić", "Leposaviq", "Leposavić", 20.8025, 43.1036),
    ("Zubin Potok", "Zubin Potok", "Zubin Potok", 20.6897, 42.9144),
    ("Banjska", "Banjskë", "Banjska", 20.7694, 42.9950),
    ("Jarinje", "Jarinjë", "Jarinje", 20.5900, 43.2500),
    ("Brnjak", "Bërnjak", "Brnjak", 20.6340, 42.8930),
    ("Raška", "Rashkë", "Raška", 20.6140, 43.2860),
    ("Novi Pazar", "Pazari i Ri", "Novi Pazar", 20.5122, 43.1367),
    ("Kuršumlija", "Kurshumli", "Kuršumlija", 21.2706, 43.1406),
    ("Medveđa", "Medvegjë", "Medveđa", 21.5847, 42.8433),
    ("Bujanovac", "Bujanoc", "Bujanovac", 21.7667, 42.4600),
    ("Preševo", "Preshevë", "Preševo", 21.6490, 42.3090),
    ("Gračanica", "Graçanicë", "Gračanica", 21.1936, 42.6000),
    ("Gjilan", "Gjilan", "Gnjilane", 21.4694, 42.4635),
    ("Prizren", "Prizren", "Prizren", 20.7397, 42.2139),
    ("Peja", "Pejë", "Peć", 20.2917, 42.6603),
    ("Vranje", "Vranjë", "Vranje", 21.9003, 42.5514),
    ("Podujevo", "Podujevë", "Podujevo", 21.1933, 42.9106),
)

ACTORS = (
    "Kosovo Police",
    "KFOR",
    "EULEX",
    "Serbian Armed Forces",
    "Police of Serbia",
    "Protesters (Kosovo Serb)",
    "Unidentified armed group",
    "Government of Kosovo",
    "Government of Serbia",
    "Srpska lista",
)
PUBLISHERS = ("Reuters", "BIRN Balkan Insight", "KoSSev", "Koha", "RTS", "Associated Press", "KFOR press release")
REMOTE_LOCATIONS = ("Brussels", "Washington, D.C.", "New York", "Ohrid")
STATUSES = ("confirmed", "reported", "claimed")
# Jitter (degrees, one standard deviation) by geo_precision: the named place, near it, a region.
JITTER_DEG = {1: 0.004, 2: 0.025, 3: 0.12}
YEAR_START = dt.date(2023, 1, 1)


def synthetic_features(n: int, seed: int = 2023) -> list[dict]:
    """``n`` valid event features (GeoJSON dicts) with unique ids ``bench-0000001``..."""
    if n < 0:
        raise ValueError(f"the number of events must be 0 or more, got {n}")
    rng = np.random.default_rng(seed)
    types = list(EVENT_TYPES)
    # Protests and strategic developments dominate a crisis like this one.
    type_weights = np.array([0.08, 0.07, 0.08, 0.35, 0.12, 0.30])
    type_idx = rng.choice(len(types), size=n, p=type_weights / type_weights.sum())
    place_idx = rng.integers(0, len(PLACES), size=n)
    geo_precision = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
    time_precision = rng.choice([1, 2, 3], size=n, p=[0.75, 0.18, 0.07])
    # 20 % background context in January-April, the rest in the crisis window.
    background = rng.random(n) < 0.2
    crisis_days = (CRISIS_WINDOW[1] - CRISIS_WINDOW[0]).days + 1
    background_days = (CRISIS_WINDOW[0] - YEAR_START).days
    day_offsets = np.where(
        background,
        rng.integers(0, background_days, size=n),
        (CRISIS_WINDOW[0] - YEAR_START).days + rng.integers(0, crisis_days, size=n),
    )
    remote = rng.random(n) < 0.01
    geo_precision[remote] = 3
    jitter = rng.standard_normal((n, 2))
    sub_pick = rng.random(n)
    actor_pick = rng.integers(0, len(ACTORS), size=(n, 2))
    fatalities = rng.poisson(0.4, size=n)
    minutes = rng.integers(0, 24 * 60, size=n)
    publisher_pick = rng.integers(0, len(PUBLISHERS), size=(n, 2))
    two_sources = rng.random(n) < 0.3
    status_pick = rng.choice(len(STATUSES), size=n, p=[0.5, 0.4, 0.1])

    features = []
    for i in range(n):
        event_type = types[type_idx[i]]
        subs = EVENT_TYPES[event_type]
        sub_event_type = subs[int(sub_pick[i] * len(subs))]
        en, sq, sr, lon0, lat0 = PLACES[place_idx[i]]
        gp = int(geo_precision[i])
        lon = round(lon0 + JITTER_DEG[gp] * jitter[i, 0], 5)
        lat = round(lat0 + JITTER_DEG[gp] * jitter[i, 1], 5)
        day = YEAR_START + dt.timedelta(days=int(day_offsets[i]))
        tp = int(time_precision[i])
        if tp == 3:
            day = day.replace(day=1)
            if not background[i] and day < CRISIS_WINDOW[0]:
                day = CRISIS_WINDOW[0]
        event_id = f"bench-{i + 1:07d}"
        title = f"{sub_event_type} near {en} (report {i + 1})"
        actors = list(dict.fromkeys(ACTORS[a] for a in actor_pick[i]))
        is_remote = bool(remote[i])
        status = STATUSES[status_pick[i]]
        sources = [
            {
                "publisher": PUBLISHERS[p],
                "title": f"{sub_event_type} reported in {en}",
                "date": day.isoformat(),
                "url": f"https://example.org/{PUBLISHERS[p].split()[0].lower()}/{event_id}",
            }
            for p in (publisher_pick[i] if two_sources[i] else publisher_pick[i][:1])
        ]
        properties = {
            "id": event_id,
            "name": title,
            "title": title,
            "date": day.isoformat(),
            "time_precision": tp,
            "time_of_day": f"{minutes[i] // 60:02d}:{minutes[i] % 60:02d}" if tp == 1 and i % 3 == 0 else None,
            "background": bool(background[i]),
            "summary": (
                f"{', '.join(actors)} involved in a {sub_event_type.lower()} event near {en}. "
                f"Synthetic benchmark record {i + 1}; not a real event."
            ),
            "event_type": event_type,
            "sub_event_type": sub_event_type,
            "actors": actors,
            "fatalities": int(fatalities[i]) if event_type in VIOLENT_EVENT_TYPES else None,
            "fatalities_note": None,
            "location": {"en": en, "sq": sq, "sr": sr},
            "geo_precision": gp,
            "related_ids": [],
            "remote": is_remote,
            "remote_location": REMOTE_LOCATIONS[i % len(REMOTE_LOCATIONS)] if is_remote else None,
            "status": status,
            "claims": [{"party": actors[0], "claim": "Disputes the account."}] if status == "claimed" else [],
            "sources": sources,
        }
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}
        )
    return features


def synthetic_geojson(n: int, seed: int = 2023) -> str:
    """A compact GeoJSON FeatureCollection text of ``n`` synthetic events."""
    collection = {"type": "FeatureCollection", "name": "events", "features": synthetic_features(n, seed)}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))


def write_catalogue(path: Path, n: int, seed: int = 2023) -> Path:
    """Write a synthetic catalogue of ``n`` events to ``path`` (parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(synthetic_geojson(n, seed), encoding="utf-8")
    return path
