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


def _neighbours(appeals: list[Located], radius_m: float) -> dict[int, list[Located]]:
    """Each appeal's appeals of the same category within `radius_m`, itself included (by appeal id)."""
    # A grid keeps the search near-linear: rows radius_m of latitude tall, and columns wide enough in
    # longitude that two appeals within radius_m are never more than one apart, even at the most
    # poleward of them (a degree of longitude shrinks towards the poles); columns wrap at the
    # antimeridian. Distance is symmetric (the haversine is, bit for bit), so each pair is measured
    # once: from a cell, the cell itself, the next one along its row and the three in the next row.
    if not appeals:
        return {}
    lat_span = math.degrees(radius_m / EARTH_RADIUS_M)
    poleward_cos = min(math.cos(math.radians(min(90.0, abs(a.lat)))) for a in appeals)
    reach = math.sin(radius_m / (2 * EARTH_RADIUS_M)) / max(poleward_cos, 1e-12)
    lon_span = math.degrees(2 * math.asin(reach)) if reach < 1 else 360.0
    columns = int(360.0 // lon_span)
    if columns < 3:  # a column's neighbours on both sides would be one and the same: one column
        columns, offsets = 1, ((1, 0),)
    else:
        offsets = ((0, 1), (1, -1), (1, 0), (1, 1))
    width = 360.0 / columns  # at least lon_span
    grid: dict[tuple[str, int, int], list[Located]] = defaultdict(list)
    for a in appeals:
        grid[(a.category, math.floor(a.lat / lat_span), int((a.lon % 360.0) // width) % columns)].append(a)
    near: dict[int, list[Located]] = {a.appeal_id: [] for a in appeals}
    for (category, row, col), here in grid.items():
        beside = [cell for dr, dc in offsets if (cell := grid.get((category, row + dr, (col + dc) % columns)))]
        for index, a in enumerate(here):
            lat, mine = a.lat, near[a.appeal_id]
            distance_to = distances_from(lat, a.lon)
            for others in (here[index:], *beside):
                for b in others:
                    # No point is nearer than its difference in latitude: most misses skip the haversine.
                    if abs(b.lat - lat) <= lat_span and distance_to(b.lat, b.lon) <= radius_m:
                        mine.append(b)
                        if b is not a:
                            near[b.appeal_id].append(a)
    return near


def _clusters(appeals: list[Located], min_appeals: int, radius_m: float) -> list[HotSpot]:
    """Greedy: the appeal with the most similar neighbours anchors a cluster; repeat on the rest."""
    # Each appeal's neighbours once: ranking and gathering both need them (a week of a big district
    # has thousands of located appeals; bench/digest.py).
    near = _neighbours(appeals, radius_m)
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
