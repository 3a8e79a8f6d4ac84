"""JSON-lines logs: one object a line, with the time, level, logger, message and any traceback."""

from __future__ import annotations

import io
import json
import logging

from bot.log_lines import JsonLines


def test_each_record_is_one_line_of_json_with_its_traceback() -> None:
    """A message with Chinese and a newline, and an exception, each stay one parseable line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    log = logging.getLogger("bot.test_log_lines")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("第%d条\nnext line", 1)
        try:
            raise ValueError("broken")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "bot.test_log_lines"
    assert first["message"] == "第1条\nnext line" and first["time"].endswith("+00:00")
    assert second["message"] == "failed" and "ValueError: broken" in second["exception"]
