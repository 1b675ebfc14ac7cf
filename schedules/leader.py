"""Which process runs the schedules: exactly one leader among the bot's worker processes.

Several webhook workers share one PostgreSQL database; only one of them may run the digest
and the sweep (one global rate limit towards Telegram, one catch-up after a restart). The
leader is the process holding a PostgreSQL *session-level advisory lock*
(``pg_try_advisory_lock``) on a connection of its own, opened for that purpose and kept for
the life of the leadership:

* the server releases the lock when that session ends: the process exits or is killed
  (``kill -9`` closes its socket at once), its connection is terminated, or the server's TCP
  keepalive declares a vanished machine dead (see docs/deploy.md);
* the other processes try to take the lock every :data:`RETRY_SECONDS` (10-20 s, random, so
  they do not retry in step), so a dead leader is replaced within about 20 s, plus the
  server's own detection time when the whole machine disappeared;
* the leader checks its connection on the same rhythm; when the check fails (connection lost,
  or no answer within :data:`CHECK_TIMEOUT`) it considers itself deposed at once and stops
  the schedules (another process may already hold the lock). Two leaders can overlap for at
  most that detection time; every message is claimed in the database before it is sent (see
  :mod:`schedules.dispatch`), so even then nothing goes out twice.

With the TinyDB file only one process may run at all (its file lock), so that process is
always the leader (:class:`AlwaysLeader`).

The interface is small so it can be tested without the bot: an :class:`Elector` answers
"did I get it / do I still hold it", and :class:`LeaderLoop` calls ``on_elected`` /
``on_deposed`` when that changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

LOCK_NAME = "bot-nhac-viec:scheduler"
RETRY_SECONDS = (10.0, 20.0)
"""A follower tries the lock again after a random delay in this range; the leader checks its
connection on the same rhythm."""
CHECK_TIMEOUT = 5.0
"""A lock attempt or a check that takes longer than this counts as a lost connection."""
CONNECT_TIMEOUT = 10


def lock_key(name: str = LOCK_NAME) -> int:
    """The advisory lock's 64-bit key: stable across processes and versions (no hash())."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Elector(Protocol):
    """One process's claim to leadership."""

    async def try_acquire(self) -> bool:
        """Take the leadership if nobody holds it; True when this process now holds it."""

    async def still_held(self) -> bool:
        """True while this process surely holds the leadership it acquired."""

    async def release(self) -> None:
        """Give the leadership up (idempotent); another process may take it at once."""


class AlwaysLeader:
    """The single process of a TinyDB deployment: always the leader."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class PgAdvisoryLeader:
    """Leadership = holding ``pg_try_advisory_lock(key)`` on a dedicated connection.

    The connection is opened for the lock only (autocommit, no pool: a pooled connection
    would be handed to other code and reset), with client-side TCP keepalives so a dead
    network is noticed; it is closed when the leadership is lost or released.
    """

    def __init__(self, dsn: str, *, key: int | None = None,
                 timeout: float = CHECK_TIMEOUT) -> None:
        self.dsn = dsn
        self.key = lock_key() if key is None else key
        self.timeout = timeout
        self._conn: psycopg.AsyncConnection[Any] | None = None  # while leading

    @property
    def backend_pid(self) -> int | None:
        """The server process of the lock's session (tests terminate it), None if not leading."""
        return None if self._conn is None else self._conn.info.backend_pid

    async def try_acquire(self) -> bool:
        if self._conn is not None:
            return await self.still_held()
        import psycopg

        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            conn = opened = await asyncio.wait_for(psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                application_name="bot-leader", keepalives=1, keepalives_idle=10,
                keepalives_interval=5, keepalives_count=3), self.timeout * 2)
            cursor = await asyncio.wait_for(
                opened.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)), self.timeout)
            row = await cursor.fetchone()
        except (OSError, TimeoutError, psycopg.Error) as exc:
            logger.warning("leader lock: cannot ask the database (%s)", type(exc).__name__)
            await self._close(conn)
            return False
        if not row or not row[0]:
            await self._close(conn)  # somebody else leads; no idle session left behind
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        if self._conn is None:
            return False
        import psycopg

        try:
            # The lock lives as long as the session: a session that answers still holds it.
            cursor = await asyncio.wait_for(self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid()"), self.timeout)
            row = await cursor.fetchone()
            if row and row[0] > 0:
                return True
        except (OSError, TimeoutError, psycopg.Error) as exc:
            logger.warning("leader lock: connection lost (%s)", type(exc).__name__)
        await self._close(self._conn)
        self._conn = None
        return False

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        import psycopg

        with contextlib.suppress(OSError, TimeoutError, psycopg.Error):
            await asyncio.wait_for(conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,)),
                                   self.timeout)
        await self._close(conn)

    @staticmethod
    async def _close(conn: psycopg.AsyncConnection[Any] | None) -> None:
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), CHECK_TIMEOUT)


Callback = Callable[[], Awaitable[None]]


class LeaderLoop:
    """Keeps asking ``elector`` and runs ``on_elected`` / ``on_deposed`` on each change.

    ``await loop.step()`` does one round (tests and the start-up use it directly);
    ``loop.start()`` runs rounds in a background task every :data:`RETRY_SECONDS` until
    ``await loop.stop()``, which also releases the leadership.
    """

    def __init__(self, elector: Elector, *, on_elected: Callback, on_deposed: Callback,
                 retry: tuple[float, float] = RETRY_SECONDS,
                 uniform: Callable[[float, float], float] = random.uniform) -> None:
        self.elector = elector
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.retry = retry
        self._uniform = uniform
        self.is_leader = False
        self._task: asyncio.Task[None] | None = None

    async def step(self) -> bool:
        """One round: acquire (follower) or check (leader); returns ``is_leader``."""
        if not self.is_leader:
            if await self.elector.try_acquire():
                self.is_leader = True
                logger.info("this process is now the scheduler leader")
                try:
                    await self.on_elected()
                except Exception:
                    # Leading without schedules would starve every chat: give the lead away.
                    logger.exception("starting the schedules failed; leadership released")
                    self.is_leader = False
                    await self.elector.release()
        elif not await self.elector.still_held():
            self.is_leader = False
            logger.warning("scheduler leadership lost; schedules stopped in this process")
            await self._deposed()
        return self.is_leader

    async def _deposed(self) -> None:
        try:
            await self.on_deposed()
        except Exception:
            logger.exception("stopping the schedules failed")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="leader")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._uniform(*self.retry))
            try:
                await self.step()
            except Exception:  # never let the loop die: a follower must keep retrying
                logger.exception("leader election round failed")

    async def stop(self) -> None:
        """Stop the rounds; a leader stops its schedules and releases the lock."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.is_leader:
            self.is_leader = False
            await self._deposed()
        await self.elector.release()
