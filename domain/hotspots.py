"""Hot spots: several similar appeals at one station, or close together, within a week."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from domain.geo import EARTH_RADIUS_M, distances_from


class Located(NamedTuple):
    """An appeal's facts that matter for hot spots (a tuple: thousands are made per digest)."""

    appeal_id: int
    category: str
    station_id: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class HotSpot:
    """A group of similar appeals; `key` names it stably so a button can find it again."""

    key: str  # "st.<station>.<category>" or "pt.<anchor appeal>.<category>"
    category: str
    station_id: str | None
    appeal_ids: tuple[int, ...]
    lat: float | None = None
    lon: float | None = None


def find_hotspots(appeals: list[Located], min_appeals: int, radius_m: float) -> list[HotSpot]:
    """Station hot spots first, then clusters of located appeals no station spot took; largest first."""
    spots: list[HotSpot] = []
    by_station: dict[tuple[str, str], list[int]] = defaultdict(list)
    for a in appeals:
        if a.station_id:
            by_station[(a.station_id, a.category)].append(a.appeal_id)
    taken: set[int] = set()
    for (station, category), ids in by_station.items():
        if len(ids) >= min_appeals:
            spots.append(HotSpot(f"st.{station}.{category}", category, station, tuple(sorted(ids))))
            taken.update(ids)
    loose = [a for a in appeals if a.appeal_id not in taken and a.lat is not None and a.lon is not None]
    spots.extend(_clusters(loose, min_appeals, radius_m))
    return sorted(spots, key=lambda s: (-len(s.appeal_ids), s.key))


def _clusters(appeals: list[Located], min_appeals: int, radius_m: float) -> list[HotSpot]:
    """Greedy: the appeal with the most similar neighbours anchors a cluster; repeat on the rest."""
    # A grid of cells radius_m wide (in metres, so a degree of longitude shrinks towards the poles)
    # keeps the neighbour search near-linear: a neighbour is at most one cell away.
    metres_per_degree = math.radians(1) * EARTH_RADIUS_M
    lat_span = radius_m / metres_per_degree

    def cell_of(a: Located) -> tuple[int, int]:
        y = a.lat * metres_per_degree
        x = a.lon * metres_per_degree * math.cos(math.radians(a.lat))
        return math.floor(y / radius_m), math.floor(x / radius_m)

    cells = {a.appeal_id: cell_of(a) for a in appeals}
    grid: dict[tuple[str, int, int], list[Located]] = defaultdict(list)
    for a in appeals:
        grid[(a.category, *cells[a.appeal_id])].append(a)

    def neighbours(a: Located) -> list[Located]:
        row, col = cells[a.appeal_id]
        lat, category = a.lat, a.category
        distance_to = distances_from(lat, a.lon)
        near = []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for b in grid.get((category, row + dr, col + dc), ()):
                    # No point is nearer than its difference in latitude: most misses skip the haversine.
                    if abs(b.lat - lat) <= lat_span and distance_to(b.lat, b.lon) <= radius_m:
                        near.append(b)
        return near

    # Each appeal's neighbours once: ranking and gathering both need them (a week of a big district
    # has thousands of located appeals; bench/digest.py).
    near = {a.appeal_id: neighbours(a) for a in appeals}
    spots: list[HotSpot] = []
    left = {a.appeal_id: a for a in appeals}
    ranked = sorted(appeals, key=lambda a: (-len(near[a.appeal_id]), a.appeal_id))
    for anchor in ranked:
        if anchor.appeal_id not in left:
            continue
        members = [b for b in near[anchor.appeal_id] if b.appeal_id in left]
        if len(members) < min_appeals:
            continue
        for b in members:
            del left[b.appeal_id]
        spots.append(
            HotSpot(
                f"pt.{anchor.appeal_id}.{anchor.category}",
                anchor.category,
                None,
                tuple(sorted(b.appeal_id for b in members)),
                anchor.lat,
                anchor.lon,
            )
        )
    return spots
