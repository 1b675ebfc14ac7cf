"""Unexpected errors reach the admins (issue 10): the user gets the polite apology, every admin
a private report (what was asked, the exception's type and message, where), HTML-escaped,
without the token, at most one per 10 minutes per exception type with a count of the others.
End to end against the fake Bot API; the failing handler is /help with its text forced to
raise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.common import UNEXPECTED
from localchat.fakeapi import check_html
from tests.conftest import BotEnv

STRANGER = 2002
OTHER_ADMIN = 1002


def _boom(kind: type[Exception], message: str):  # type: ignore[no-untyped-def]
    def fail(*args: object, **kwargs: object) -> str:
        raise kind(message)
    return fail


def test_unexpected_errors_are_reported_to_admins_rate_limited(
        bot_env: BotEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    import handlers.units

    token = bot_env.api.token
    monkeypatch.setattr(bot_env, "settings", bot_env.settings.__class__(
        admin_ids=frozenset({BotEnv.ADMIN, OTHER_ADMIN}), data_dir=bot_env.settings.data_dir))
    bot_env.api.add_chat(BotEnv.ADMIN, "private")
    bot_env.api.add_chat(OTHER_ADMIN, "private")
    monkeypatch.setattr(handlers.units, "help_text", _boom(
        RuntimeError, f"hỏng <b>&amp; {token} 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"))
    api = bot_env.api

    def reports(chat_id: int) -> list[str]:
        return [check_html(m["text"]) for m in api.messages_to(chat_id)]

    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        (reply,) = await bot_env.ask(STRANGER, "/help <i>x</i>", first_name="Lan <An>",
                                     username="lan_an")
        assert check_html(reply["text"]) == UNEXPECTED
        assert await api.async_wait_for(lambda: len(api.messages_to(BotEnv.ADMIN)) == 1
                                        and len(api.messages_to(OTHER_ADMIN)) == 1, 5)
        # Three more of the same type within 10 minutes: apologies, no report.
        for _ in range(3):
            (again,) = await bot_env.ask(STRANGER, "/help")
            assert check_html(again["text"]) == UNEXPECTED
        # Another type is reported at once; the chat's updates run in order, so the three
        # before it were handled (and held back) by then.
        monkeypatch.setattr(handlers.units, "help_text", _boom(KeyError, "khóa"))
        await bot_env.ask(STRANGER, "/help")
        assert await api.async_wait_for(lambda: len(api.messages_to(BotEnv.ADMIN)) == 2, 5)
        # Ten minutes later the first type is reported again, with the count held back.
        monkeypatch.setattr(handlers.units, "help_text", _boom(RuntimeError, "lần nữa"))
        bot_env.clock.advance(timedelta(minutes=10))
        await bot_env.ask(STRANGER, "/help")
        assert await api.async_wait_for(lambda: len(api.messages_to(BotEnv.ADMIN)) == 3, 5)

    bot_env.run(scenario)
    first, second, third = reports(BotEnv.ADMIN)
    assert reports(OTHER_ADMIN)[0] == first
    assert "Lỗi không mong đợi" in first and "RuntimeError: hỏng <b>&amp;" in first
    assert "Người gửi: 2002 Lan <An> (@lan_an)" in first
    assert "Nội dung: /help <i>x</i>" in first
    assert "Tại: tests/test_errors_e2e.py:" in first and " trong fail" in first
    raw = "".join(m["text"] for m in api.messages_to(BotEnv.ADMIN))
    assert token not in raw and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ" not in raw
    assert token.split(":")[1] not in raw and "***" in first
    assert "lỗi cùng loại" not in first and "lỗi cùng loại" not in second
    assert "KeyError: 'khóa'" in second
    assert "RuntimeError: lần nữa" in third and "còn 3 lỗi cùng loại" in third
    assert len(reports(OTHER_ADMIN)) == 3
    # The stranger only ever saw the apology.
    assert {check_html(m["text"]) for m in api.messages_to(STRANGER)} == {UNEXPECTED}


def test_errors_of_background_jobs_are_reported_too(bot_env: BotEnv,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A failing scheduled job (no update, no user to apologise to) reaches the admins."""
    import schedules.jobs

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("đĩa đầy")

    monkeypatch.setattr(schedules.jobs, "run_prune", broken)
    bot_env.api.add_chat(BotEnv.ADMIN, "private")

    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        (job,) = app.job_queue.get_jobs_by_name(schedules.jobs.PRUNE_JOB_ID)
        await job.run(app)
        assert await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(BotEnv.ADMIN)) == 1, 5)

    bot_env.run(scenario)
    (report,) = [check_html(m["text"]) for m in bot_env.api.messages_to(BotEnv.ADMIN)]
    assert "Công việc định kỳ: prune" in report and "OSError: đĩa đầy" in report
    assert "xin lỗi" not in report
