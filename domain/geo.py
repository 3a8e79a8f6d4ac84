"""Distances on the Earth's surface."""

from __future__ import annotations

import math
from collections.abc import Callable

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine), correct across the antimeridian and poles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distances_from(lat: float, lon: float) -> Callable[[float, float], float]:
    """distance_m from one point, bit for bit, with that point's share of the arithmetic done once."""
    phi1 = math.radians(lat)
    cos_phi1 = math.cos(phi1)
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt

    def distance_to(lat2: float, lon2: float) -> float:
        phi2 = radians(lat2)
        h = sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos(phi2) * sin(radians(lon2 - lon) / 2) ** 2
        return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))

    return distance_to


def on_earth(lat: float, lon: float, accuracy_m: float | None = None) -> bool:
    """Whether a shared location is a point on the globe (finite, in range), with a sane accuracy if any."""
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return False
    return accuracy_m is None or (math.isfinite(accuracy_m) and accuracy_m >= 0)
