"""Conversation storage: state survives per chat, handoff references resolve, the question log feeds the gaps list."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

import pytest

from bot import clock
from bot.storage import Store

pytestmark = pytest.mark.asyncio


async def test_state_round_trips_per_channel_and_user(tmp_path: Path):
    store = await Store.open(tmp_path / "a.sqlite3")
    await store.save_state("telegram", "1", {"procedure": "dang-ky-khai-sinh", "choices": ["menu"]})
    await store.save_state("zalo", "1", {"procedure": "dang-ky-tam-tru"})
    assert await store.get_state("telegram", "1") == {"procedure": "dang-ky-khai-sinh", "choices": ["menu"]}
    assert (await store.get_state("zalo", "1"))["procedure"] == "dang-ky-tam-tru"
    assert await store.get_state("telegram", "2") == {}
    await store.close()


async def test_state_survives_a_restart_and_keeps_vietnamese_text(tmp_path: Path):
    store = await Store.open(tmp_path / "db.sqlite3")
    await store.save_state("t", "u", {"procedure": "dang-ky-tam-tru", "note": "Đăng ký tạm trú"})
    await store.save_state("t", "u", {"procedure": "dang-ky-khai-sinh"})   # the later turn wins
    await store.close()
    again = await Store.open(tmp_path / "db.sqlite3")
    try:
        assert await again.get_state("t", "u") == {"procedure": "dang-ky-khai-sinh"}
        await again.save_state("t", "v", {"note": "Đăng ký tạm trú"})
        async with again.db.execute("SELECT state FROM conversations WHERE user = 'v'") as cur:
            assert "Đăng ký" in (await cur.fetchone())[0]   # stored readable, not as \\u escapes
    finally:
        await again.close()


async def test_choices_offered_outside_a_turn_replace_only_the_choices(store: Store):
    await store.save_state("zalo", "u", {"procedure": "dang-ky-tam-tru", "choices": ["old"]})
    await store.set_choices("zalo", "u", ["rate:C:5", "rate:C:1"])
    state = await store.get_state("zalo", "u")
    assert state["choices"] == ["rate:C:5", "rate:C:1"]
    assert state["procedure"] == "dang-ky-tam-tru"
    await store.set_choices("zalo", "new", ["menu"])              # a citizen with no conversation yet
    assert (await store.get_state("zalo", "new"))["choices"] == ["menu"]


async def test_a_citizens_turns_at_once_each_build_on_the_last(store: Store):
    """Messages a citizen sends in a burst are served one after the other: none of the turns
    overwrites what another saved."""
    async def turn() -> None:
        async with store.turn("telegram", "7001") as held:
            await asyncio.sleep(0)
            held.save = {**held.state, "turns": held.state.get("turns", 0) + 1}

    await asyncio.gather(*(turn() for _ in range(20)))
    assert await store.get_state("telegram", "7001") == {"turns": 20}


async def test_a_turn_that_saves_nothing_leaves_the_state_and_the_next_turn_goes_on(store: Store):
    """A failed turn, or one that has just forgotten the citizen, keeps nothing of its own."""
    await store.save_state("telegram", "7001", {"procedure": "dang-ky-khai-sinh"})
    with pytest.raises(RuntimeError):
        async with store.turn("telegram", "7001") as held:
            held.state["procedure"] = "changed in memory only"
            raise RuntimeError("the turn failed")
    async with store.turn("telegram", "7001") as held:
        assert held.state == {"procedure": "dang-ky-khai-sinh"}
    async with asyncio.timeout(10), store.turn("telegram", "7001") as held:
        held.save = {"procedure": "dang-ky-tam-tru"}
    assert await store.get_state("telegram", "7001") == {"procedure": "dang-ky-tam-tru"}


async def test_a_turn_inside_a_transaction_commits_with_it(store: Store):
    with pytest.raises(RuntimeError):
        async with store.transaction():
            async with store.turn("telegram", "7001") as held:
                held.save = {"procedure": "dang-ky-khai-sinh"}
            raise RuntimeError("the rest failed")
    assert await store.get_state("telegram", "7001") == {}
    async with store.transaction(), store.turn("telegram", "7001") as held:
        held.save = {"procedure": "dang-ky-tam-tru"}
    assert await store.get_state("telegram", "7001") == {"procedure": "dang-ky-tam-tru"}


async def test_a_handoff_reference_is_short_unique_and_found_whatever_the_case(store: Store):
    refs = [await store.add_handoff("telegram", str(i)) for i in range(20)]
    assert len(set(refs)) == 20
    assert all(re.fullmatch(r"H[0-9A-F]{6}", ref) for ref in refs)
    found = await store.handoff(refs[3].lower())                   # staff type it as they like
    assert found is not None and (found.channel, found.user) == ("telegram", "3")
    assert await store.handoff("H000000") is None


async def test_a_logged_question_is_read_back_whole(store: Store):
    qid = await store.log_question("zalo", "làm giấy khai sinh ở đâu", "procedure", "dang-ky-khai-sinh", "where",
                                   0.91, True)
    row = await store.question(qid)
    assert row is not None
    assert (row.channel, row.text, row.procedure, row.aspect, row.confidence, row.answered) == (
        "zalo", "làm giấy khai sinh ở đâu", "dang-ky-khai-sinh", "where", 0.91, True)
    assert await store.question(qid + 1) is None


async def test_questions_logged_in_a_turn_are_there_once_it_ends_even_if_it_fails(store: Store):
    """The id a reply's vote buttons carry finds the question, whichever way the turn ended."""
    async with store.turn("telegram", "7001") as held:
        asked = await store.log_question("telegram", "làm giấy khai sinh ở đâu", "procedure", "dang-ky-khai-sinh",
                                         "where", 0.91, True)
        told = await store.log_question("telegram", "tôi là Bí Mật, gọi 0912345678", "unknown", None, None, 0.2,
                                        False)
        held.save = {"answers": [asked]}
    with pytest.raises(RuntimeError):
        async with store.turn("telegram", "7001"):
            failed = await store.log_question("telegram", "giá vàng hôm nay", "unknown", None, None, 0.1, False)
            raise RuntimeError("the turn failed")
    assert len({asked, told, failed}) == 3
    row = await store.question(asked)
    assert row is not None and (row.channel, row.text, row.procedure, row.aspect, row.confidence, row.answered) == (
        "telegram", "làm giấy khai sinh ở đâu", "dang-ky-khai-sinh", "where", 0.91, True)
    assert (await store.question(told)).text == "tôi là ***, gọi ***"
    assert (await store.question(failed)).text == "giá vàng hôm nay"
    assert await store.get_state("telegram", "7001") == {"answers": [asked]}


async def test_unanswered_lists_distinct_unanswered_questions_most_asked_first(store: Store):
    for _ in range(3):
        await store.log_question("t", "cấp lại hộ chiếu", "unknown", None, None, 0.2, False)
    await store.log_question("t", "đổi bằng lái", "unknown", None, None, 0.4, False)
    await store.log_question("t", "khai sinh ở đâu", "procedure", "dang-ky-khai-sinh", "where", 0.9, True)
    since = clock.now() - dt.timedelta(days=1)
    rows = await store.unanswered(since)
    assert [(r.text, r.n) for r in rows] == [("cấp lại hộ chiếu", 3), ("đổi bằng lái", 1)]
    assert [r.text for r in await store.unanswered(since, limit=1)] == ["cấp lại hộ chiếu"]
    assert await store.unanswered(clock.now() + dt.timedelta(days=1)) == []


async def test_the_question_log_masks_what_identifies_a_person_whoever_writes_to_it(store: Store):
    """R10: the log has no user link, so "delete my data" cannot find these texts; masked at write."""
    qid = await store.log_question("t", "Tôi là Phan Thị Bí Mật, email bimat@example.com, hộ chiếu C1234567",
                                   "unknown", None, None, 0.1, False)
    assert (await store.question(qid)).text == "Tôi là ***, email ***, hộ chiếu ***"
    assert [r.text for r in await store.unanswered(clock.now() - dt.timedelta(days=1))] == [
        "Tôi là ***, email ***, hộ chiếu ***"]


async def test_questions_whose_text_the_purge_blanked_are_not_listed_as_unanswered(store: Store):
    await store.log_question("t", "đổi bằng lái", "unknown", None, None, 0.4, False)
    qid = await store.log_question("t", "Phan Thị Bí Mật hỏi", "unknown", None, None, 0.4, False)
    await store.db.execute("UPDATE questions SET text = '' WHERE id = ?", (qid,))
    assert [r.text for r in await store.unanswered(clock.now() - dt.timedelta(days=1))] == ["đổi bằng lái"]
