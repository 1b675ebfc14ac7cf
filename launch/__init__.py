"""The composition root: the one place that puts the core (``bot/``), the Telegram side
(``handlers/``, ``schedules/``) and the local chat (``localchat/``) together into a process.

``bot/__main__.py`` calls :func:`run` for ``python -m bot run``; nothing in ``bot/`` imports
``handlers/`` or ``localchat/``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.config import Settings


def run(settings: Settings, *, today: date | None, samples: Path) -> int:
    """The local chat without a token, otherwise the bot on Telegram (polling or webhook)."""
    if settings.local_mode:
        from localchat.runner import run_local

        return run_local(settings, today=today, samples=samples)
    from launch.telegram import run_telegram

    return run_telegram(settings, today=today)
