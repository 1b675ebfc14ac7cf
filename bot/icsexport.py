"""/lich_ics: a unit's open deadlines as an iCalendar file (RFC 5545) for any calendar app.

One all-day event per open task that has a deadline, on the due date: the SUMMARY is the task
code and the start of its text, the DESCRIPTION the whole text, its lead and supporting units,
its document and the command to see it in the bot ("/chitiet 17"); an alarm rings at 09:00 the
day before. The UID depends on the task only, so importing a newer file again updates the
events (a deadline moved by /giahan moves) instead of duplicating them. Pure: records in,
bytes out; no Telegram types, no store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from bot.records import StoredTask
from bot.text import clip

__all__ = ["ALARM_BEFORE", "MAX_EVENTS", "PRODID", "SUMMARY_CHARS", "build_calendar",
           "event_uid", "pick_tasks"]

PRODID = "-//Bot nhac viec//Lich han nhiem vu//VI"
UID_DOMAIN = "nhacviec.bot"
SUMMARY_CHARS = 80
ALARM_BEFORE = timedelta(hours=15)
"""Before the start of the all-day event (00:00): 09:00 the day before."""
MAX_EVENTS = 2000
"""At most this many events in one file: a calendar app shows a unit's deadlines, not a
province's (100,000 events would take minutes to build and hundreds of MB)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def event_uid(task: StoredTask) -> str:
    """Stable per task: the same in every file the bot makes."""
    return f"nhiemvu-{task.id}@{UID_DOMAIN}"


def pick_tasks(tasks: Iterable[StoredTask], today: date,
               limit: int = MAX_EVENTS) -> tuple[list[StoredTask], int]:
    """(the tasks to put in the calendar, how many had a deadline): open tasks with a due
    date; beyond ``limit``, the coming deadlines first (soonest first), then the most recent
    overdue ones. The result is ordered by due date."""
    dated = [(t.due, t.id, t) for t in tasks if t.is_open and t.due is not None]
    if len(dated) > limit:
        coming = sorted(d for d in dated if d[0] >= today)
        overdue = sorted((d for d in dated if d[0] < today), reverse=True)
        chosen = (coming + overdue)[:limit]
    else:
        chosen = dated
    return [t for _, _, t in sorted(chosen, key=lambda d: d[:2])], len(dated)


def _plain(text: str) -> str:
    """Text without control characters (newlines kept)."""
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def build_calendar(tasks: Sequence[StoredTask], *, now: datetime, name: str,
                   unit_name: Callable[[str], str],
                   document_label: Callable[[int], str] | None = None) -> bytes:
    """The .ics bytes for ``tasks`` (open ones with a due date; others are left out).

    ``unit_name`` names a unit key; ``document_label`` names a document id. ``now`` is the
    DTSTAMP (aware datetime).
    """
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _plain(name))
    stamp = now.astimezone(UTC)  # DTSTAMP is in UTC (RFC 5545, 3.8.7.2)
    for task in tasks:
        if not task.is_open or task.due is None:
            continue
        text = " ".join(_plain(task.text).split())
        event = Event()
        event.add("uid", event_uid(task))
        event.add("dtstamp", stamp)
        event.add("dtstart", task.due)
        event.add("dtend", task.due + timedelta(days=1))
        event.add("summary", f"#{task.code} {clip(text, SUMMARY_CHARS)}")
        lines = [text, ""]
        lead = "; ".join(_plain(unit_name(k)) for k in task.lead)
        lines.append(f"Chủ trì: {lead or 'chưa xác định'}")
        if task.support:
            lines.append("Phối hợp: " + "; ".join(_plain(unit_name(k)) for k in task.support))
        if document_label is not None:
            lines.append(f"Văn bản: {_plain(document_label(task.doc_id))}, dòng {task.line}")
        lines.append(f"Xem trong bot: /chitiet {task.code}")
        event.add("description", "\n".join(lines))
        event.add("categories", ["Nhiệm vụ"])
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Ngày mai đến hạn nhiệm vụ #{task.code}: "
                                 f"{clip(text, SUMMARY_CHARS)}")
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
