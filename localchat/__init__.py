"""The local chat: a fake Telegram Bot API server, a terminal console that talks to it,
and the runner that puts the real bot between them (``python -m bot run`` without a
token). Telegram code for people and tests, not part of the core (``bot/``)."""
