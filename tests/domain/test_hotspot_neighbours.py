"""The hot spots' neighbour search (a grid, each pair measured once) finds exactly what measuring every pair finds."""

import random

import pytest

from domain.geo import distance_m
from domain.hotspots import Located, _neighbours

CATEGORIES = ("work", "life", "facilities")


def scattered(rnd: random.Random, centre: tuple[float, float], spread: float, count: int) -> list[Located]:
    """`count` appeals around `centre`, some sharing a place, in a few categories."""
    appeals = []
    for appeal_id in range(1, count + 1):
        if appeals and rnd.random() < 0.1:  # the same spot again
            lat, lon = appeals[-1].lat, appeals[-1].lon
        else:
            lat = max(-90.0, min(90.0, centre[0] + rnd.gauss(0, spread)))
            lon = (centre[1] + rnd.gauss(0, spread) + 180.0) % 360.0 - 180.0  # across the antimeridian too
        appeals.append(Located(appeal_id, rnd.choice(CATEGORIES), None, lat, lon))
    return appeals


def every_pair(appeals: list[Located], radius_m: float) -> dict[int, set[int]]:
    return {
        a.appeal_id: {
            b.appeal_id
            for b in appeals
            if b.category == a.category and distance_m(a.lat, a.lon, b.lat, b.lon) <= radius_m
        }
        for a in appeals
    }


@pytest.mark.parametrize(
    "centre,spread,radius_m",
    [
        ((31.23, 121.47), 0.01, 300.0),  # a city far east of Greenwich
        ((31.23, 121.47), 0.03, 500.0),
        ((69.65, 18.96), 0.02, 400.0),  # the far north
        ((-33.9, 18.4), 0.2, 5000.0),
        ((64.7, 179.99), 0.01, 500.0),  # both sides of the antimeridian
        ((89.99, 40.0), 0.005, 300.0),  # at the pole every longitude is near
    ],
)
def test_the_grid_finds_every_neighbour_and_no_other(centre, spread, radius_m) -> None:
    appeals = scattered(random.Random(f"{centre}{radius_m}"), centre, spread, 400)
    found = _neighbours(appeals, radius_m)
    assert {key: {b.appeal_id for b in near} for key, near in found.items()} == every_pair(appeals, radius_m)
    assert all(len(near) == len({b.appeal_id for b in near}) for near in found.values())  # nobody twice
    assert sum(len(near) > 1 for near in found.values()) > 50  # the scenes do have neighbours
