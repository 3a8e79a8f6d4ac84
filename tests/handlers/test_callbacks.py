"""The callback-data codec round-trips what the bot writes and rejects everything else."""

import pytest

from handlers import callbacks
from handlers.callbacks import AppealVerb, DraftVerb, Family, LanguageVerb, Press, StationVerb, decode


def test_round_trips() -> None:
    """Every family decodes to what was encoded, verbs as enum members."""
    assert decode(callbacks.appeal(42, "acc")) == Press(Family.APPEAL, AppealVerb.ACCEPT, 42, "")
    assert decode(callbacks.appeal(7, "asgp", "station-01.urgent")) == Press("ap", "asgp", 7, "station-01.urgent")
    assert decode(callbacks.draft("cat", "work")) == Press(Family.DRAFT, DraftVerb.CATEGORY, None, "work")
    assert decode(callbacks.station("venue", "sh-001")) == Press(Family.STATION, StationVerb.VENUE, None, "sh-001")
    assert decode(callbacks.language("zh")) == Press(Family.LANGUAGE, LanguageVerb.SET, None, "zh")
    assert decode(callbacks.confirm(12, AppealVerb.RESOLVE, 5)) == Press(Family.APPEAL, AppealVerb.CONFIRM, 12, "res.5")
    assert decode("lang:en") == Press(Family.LANGUAGE, LanguageVerb.SET, None, "en")  # buttons sent before


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "ap",
        "ap:x:acc",
        "ap:1:ACC",
        "ap:1:acc:" + "a" * 41,
        "ap:-1:acc",
        "ap:1:acc:x y",
        "dr:",
        "st:venue:",
        "lang",
        "ap:1:acc;drop",
        "x" * 65,
        "ap:1:acc\n",
        "ap:1:zzz",
        "dr:zap",
        "lg:set:",
        "ap:acc",
        "ls:open:1",
        "zz:open",
        "lang:fra",
    ],
)
def test_forged_shapes_decode_to_none(data) -> None:
    """Malformed, oversized, injected data, or a verb no button has, is not a press at all."""
    assert decode(data) is None


def test_encoding_refuses_oversized_data_and_unknown_verbs() -> None:
    """The bot never writes callback data Telegram would reject or the codec could not read back."""
    with pytest.raises(ValueError):
        callbacks.station("venue", "s" * 60)
    with pytest.raises(ValueError):
        callbacks.appeal(1, "zzz")
    with pytest.raises(ValueError):
        callbacks.draft("zap")
