"""Suite-wide settings."""

import os

# python-telegram-bot 22 warns when a duration (RetryAfter.retry_after, Voice.duration) is read
# as an int; with warnings as errors that would break every such read. The bot opts in too.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_addoption(parser) -> None:
    """`--bot-api=http` runs every bot test through the sandbox's HTTP server instead of in-process."""
    parser.addoption(
        "--bot-api",
        choices=("inprocess", "http"),
        default="inprocess",
        help="how the bot reaches the fake Telegram in tests (default: inprocess)",
    )


def pytest_configure(config) -> None:
    """Hand the chosen Bot API door to the harness."""
    from tests import harness

    harness.BOT_API = config.getoption("--bot-api")
