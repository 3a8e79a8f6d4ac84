"""Suite-wide settings."""

import os

# python-telegram-bot 22 warns when a duration (RetryAfter.retry_after, Voice.duration) is read
# as an int; with warnings as errors that would break every such read. The bot opts in too.
os.environ.setdefault("PTB_TIMEDELTA", "true")
