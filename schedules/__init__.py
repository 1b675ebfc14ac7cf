"""When tasks are reminded: working-day calendar (``workdays``) and reminder policy (``policy``).

Both modules are pure (no I/O, no clock reads); the Telegram jobs that deliver digests call
them with ``today`` and the stored tasks.
"""
