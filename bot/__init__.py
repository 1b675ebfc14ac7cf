"""Core of the plan-tracking bot: models, parser, storage and CLI (no Telegram types here)."""
