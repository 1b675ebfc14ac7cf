"""Errors that cross layers. Handlers and the CLI catch :class:`BotError` and show its message.

Hierarchy::

    BotError                  every error meant for a user (message is Vietnamese)
    ├── PlanError             a plan file cannot be read
    │   ├── UnsupportedFile   unknown extension, binary file, .doc
    │   ├── FileTooLarge      over the size limit
    │   ├── EmptyPlan         nothing readable inside
    │   ├── BrokenFile        a damaged .docx/.pdf
    │   └── EncodingUnknown   not UTF-8 and no legacy encoding detected reliably
    ├── UnitNotFound          a unit name matches nothing (carries suggestions)
    ├── DateInputError        a date the user typed cannot be understood or does not exist
    ├── UsageError            a command with missing or wrong arguments
    ├── NotAllowed            the user lacks the right to act
    ├── ConfigError           a missing or malformed setting at start-up
    └── StartupError          the Bot API refused the token or could not be reached at start-up
"""

from __future__ import annotations


class BotError(Exception):
    """Base of all errors whose message is shown to a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PlanError(BotError):
    """A plan file cannot be read."""


class UnsupportedFile(PlanError):
    """The file type is not one the bot reads."""


class FileTooLarge(PlanError):
    """The file exceeds the size limit."""


class EmptyPlan(PlanError):
    """The file holds no readable text."""


class BrokenFile(PlanError):
    """The file is damaged (a .docx that is not a zip, a PDF that cannot be opened)."""


class EncodingUnknown(PlanError):
    """The text is not UTF-8 and no legacy Vietnamese encoding was detected reliably."""


class UnitNotFound(BotError):
    """A unit name matched nothing; ``suggestions`` holds the closest names."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


class DateInputError(BotError):
    """A typed date cannot be understood or does not exist (31/02/2023)."""


class UsageError(BotError):
    """A command was given missing or wrong arguments."""


class NotAllowed(BotError):
    """The user is not allowed to do this."""


class ConfigError(BotError):
    """A setting is missing or malformed."""


class StartupError(BotError):
    """The Bot API refused the token, or could not be reached, when the bot started."""
