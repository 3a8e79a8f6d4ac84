"""The callback-data codec round-trips what the bot writes and rejects everything else."""

import pytest

from handlers import callbacks
from handlers.callbacks import Press, decode


def test_round_trips() -> None:
    """Every family decodes to what was encoded."""
    assert decode(callbacks.appeal(42, "acc")) == Press("ap", "acc", 42, "")
    assert decode(callbacks.appeal(7, "asgp", "station-01.urgent")) == Press("ap", "asgp", 7, "station-01.urgent")
    assert decode(callbacks.draft("cat", "work")) == Press("dr", "cat", None, "work")
    assert decode(callbacks.station("venue", "sh-001")) == Press("st", "venue", None, "sh-001")


@pytest.mark.parametrize(
    "data",
    [None, "", "ap", "ap:x:acc", "ap:1:ACC", "ap:1:acc:" + "a" * 41, "ap:-1:acc", "ap:1:acc:x y",
     "dr:", "st:venue:", "lang", "ap:1:acc;drop", "x" * 65, "ap:1:acc\n"],
)
def test_forged_shapes_decode_to_none(data) -> None:
    """Malformed, oversized or injected data is not a press at all."""
    assert decode(data) is None


def test_encoding_refuses_oversized_data() -> None:
    """The bot never writes callback data Telegram would reject."""
    with pytest.raises(ValueError):
        callbacks.station("venue", "s" * 60)
