"""Fixtures of the tests of Sacred's other observers (TinyDB, SQL, S3, Slack, Telegram)."""
