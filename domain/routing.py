"""Routing: which unit a submitted appeal goes to, by category and place."""

from __future__ import annotations

from dataclasses import dataclass

from domain.geo import distance_m


@dataclass(frozen=True)
class Area:
    """A circle on the map."""

    lat: float
    lon: float
    radius_m: float

    def contains(self, lat: float, lon: float) -> bool:
        """Whether a point lies inside the circle."""
        return distance_m(self.lat, self.lon, lat, lon) <= self.radius_m


@dataclass(frozen=True)
class Rule:
    """category x (station | area | anywhere) -> unit; "*" matches every category."""

    category: str
    unit: str
    station: str | None = None
    area: Area | None = None

    def matches(self, category: str, station: str | None, point: tuple[float, float] | None) -> bool:
        """Whether an appeal with these facts falls under this rule."""
        if self.category not in ("*", category):
            return False
        if self.station is not None:
            return station == self.station
        if self.area is not None:
            return point is not None and self.area.contains(*point)
        return True


def route(
    rules: list[Rule],
    category: str,
    station: str | None = None,
    point: tuple[float, float] | None = None,
) -> str | None:
    """The unit of the first matching rule, or None: a coordinator must triage."""
    for rule in rules:
        if rule.matches(category, station, point):
            return rule.unit
    return None
