"""Hot spots: several similar appeals at one station, or close together, within a week."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from domain.geo import EARTH_RADIUS_M, distance_m


@dataclass(frozen=True)
class Located:
    """An appeal's facts that matter for hot spots."""

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
    # A grid of cells about radius_m wide keeps the neighbour search near-linear.
    cell = max(radius_m / 111_000, 1e-6)
    lat_span = math.degrees(radius_m / EARTH_RADIUS_M)
    grid: dict[tuple[str, int, int], list[Located]] = defaultdict(list)
    for a in appeals:
        grid[(a.category, math.floor(a.lat / cell), math.floor(a.lon / cell))].append(a)

    def neighbours(a: Located) -> list[Located]:
        row, col = math.floor(a.lat / cell), math.floor(a.lon / cell)
        near = []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for b in grid.get((a.category, row + dr, col + dc), ()):
                    # No point is nearer than its difference in latitude: most misses skip the haversine.
                    if abs(b.lat - a.lat) <= lat_span and distance_m(a.lat, a.lon, b.lat, b.lon) <= radius_m:
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
