"""Process updates concurrently across chats, one at a time within a chat.

python-telegram-bot handles updates one after another unless told otherwise, so one slow
handler (a broadcast, a big import) holds every other user. ``concurrent_updates`` lifts that
for all updates at once, which would also let two commands of one chat run side by side and
answer out of order ("/xong 17" then "/nhiemvu" must show the task done). This processor runs
different chats concurrently and keeps each chat's updates in arrival order.

Why that is safe for the store: it is used from the event loop only, and every check-then-write
of it (mark a task done, accept an invitation, file a request) happens inside one synchronous
store method, with no ``await`` in between; so two concurrent "/xong 17" from two chats cannot
both succeed, the second gets "đã được đánh dấu hoàn thành".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256
"""Updates in progress at once. A handler waiting for Telegram holds a slot; long work
(broadcasts, imports) runs as a background task and holds none. Updates queued behind their
chat's lock hold one too (PTB takes the slot before the lock), so the number is well above
one getUpdates batch (100): one chat flooding the bot cannot starve the others."""


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (its sender's id when it has no chat); None: no order."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; those of one chat one by one, in order.

    Updates reach :meth:`do_process_update` in the order they were fetched (PTB starts one
    task per update, in order, and the semaphore in front of this method wakes its waiters
    first come first served); :class:`asyncio.Lock` then hands each chat's lock over first
    come first served too.
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                await coroutine
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[key]  # forget idle chats: memory stays bounded

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
