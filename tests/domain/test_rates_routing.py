"""The three rates, routing rules and distances."""

import pytest

from domain.geo import distance_m
from domain.rates import Counts, percent, rates
from domain.routing import Area, Rule, route


def test_rates_follow_their_definitions() -> None:
    """response = in time / assigned; resolution = solved / asked; satisfaction = (sat + fair) / rated."""
    result = rates(Counts(assigned=8, accepted_in_time=6, asked=10, solved=7, rated=5, satisfied=3, fairly_satisfied=1))
    assert result.response == pytest.approx(0.75)
    assert result.resolution == pytest.approx(0.7)
    assert result.satisfaction == pytest.approx(0.8)
    assert percent(result.response) == "75.0%"


def test_rates_with_nothing_counted_are_none() -> None:
    """An empty period has no rate rather than a fake 0% or 100%."""
    result = rates(Counts())
    assert (result.response, result.resolution, result.satisfaction) == (None, None, None)
    assert percent(None) == "—"


def test_impossible_counts_are_refused() -> None:
    """More parts than wholes is a bug in the counting, not a rate above 100%."""
    with pytest.raises(ValueError):
        rates(Counts(assigned=1, accepted_in_time=2))


def test_distance_is_right_across_the_antimeridian_and_at_the_pole() -> None:
    """One degree of longitude at the equator is ~111.2 km, on either side of 180°."""
    assert distance_m(0, 179.5, 0, -179.5) == pytest.approx(111_195, rel=1e-3)
    assert distance_m(89.9, 0, 89.9, 180) == pytest.approx(22_239, rel=1e-3)
    assert distance_m(31.23, 121.47, 31.23, 121.47) == 0


def test_first_matching_rule_wins_and_unrouted_is_none() -> None:
    """Station rules, area rules and catch-alls apply in order."""
    rules = [
        Rule(category="facilities", station="st-1", unit="station-1"),
        Rule(category="rights", area=Area(31.23, 121.47, 1000), unit="legal-aid"),
        Rule(category="work", unit="hr"),
    ]
    assert route(rules, "facilities", station="st-1") == "station-1"
    assert route(rules, "facilities", station="st-2") is None
    assert route(rules, "rights", point=(31.231, 121.471)) == "legal-aid"
    assert route(rules, "rights", point=(31.30, 121.47)) is None
    assert route(rules, "rights") is None
    assert route(rules, "work") == "hr"
    assert route(rules + [Rule(category="*", unit="hub")], "suggestion") == "hub"


def test_hot_spots_are_found_near_the_poles_too() -> None:
    """Three appeals 300 m apart east-west at 80°N are one spot (a degree of longitude is short there)."""
    from domain.hotspots import Located, find_hotspots

    step = 300 / (111_195 * 0.1736)  # 300 m in degrees of longitude at 80°N
    appeals = [Located(i, "life", None, 80.0, 20.0 + i * step) for i in range(3)]
    (spot,) = find_hotspots(appeals, min_appeals=3, radius_m=700)
    assert spot.appeal_ids == (0, 1, 2)
    assert find_hotspots(appeals, min_appeals=3, radius_m=250) == []
