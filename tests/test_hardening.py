"""Hostile and broken input, privacy of logs, and the personal-data tools."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import clock
from bot.app import App, build_app
from bot.messages import Incoming
from bot.storage import Store
from tests.helpers import make_config

CODE = "000.00.27.H15-251120-0012"
ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def app_with_a_case(tmp_path: Path, **changes: object) -> AsyncIterator[App]:
    """The bot with one case filed, its applicant's phone ending 5678."""
    app = await build_app(make_config(tmp_path / "db.sqlite3", **changes))
    try:
        await app.desk.add(CODE, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678")
        yield app
    finally:
        await app.close()
ACTION_KINDS = ["menu", "grp", "proc", "track", "follow", "unfollow", "case", "rate", "rq", "vote", "fwd",
                "forget", "human", "x"]
actions = st.builds(
    lambda kind, rest: f"{kind}:{rest}" if rest is not None else kind,
    st.sampled_from(ACTION_KINDS),
    st.one_of(st.none(), st.text(max_size=40), st.sampled_from(
        [CODE, f"{CODE}:5", f"{CODE}:9", f"{CODE}:visits:0", "dang-ky-khai-sinh:fees", "999", "1:up", "confirm"])),
)
texts = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["khai sinh", "1", "2", "5678", f"tra cứu {CODE}", "/hoso capnhat x ready", "/baocao",
                     "xóa dữ liệu của tôi", "đánh giá", "hủy", "'; DROP TABLE cases;--", "\u202e\u200b", "x" * 20_000]),
)
inputs = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.one_of(texts.map(lambda t: ("text", t)),
                                                                   actions.map(lambda a: ("action", a)))),
                  min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs)
def test_every_input_gets_a_reply_and_nothing_escapes(tmp_path_factory, steps):
    async def run() -> None:
        app = await build_app(make_config(tmp_path_factory.mktemp("fuzz") / "db.sqlite3"))
        try:
            await app.desk.add(CODE, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678")
            await app.desk.update(CODE, "returned", "")
            for user, (kind, value) in steps:
                replies = await app.dialog.handle(Incoming("fuzz", user, **{kind: value}))
                assert replies and all(isinstance(r.text, str) and r.text for r in replies)
                assert "sự cố" not in replies[0].text, (kind, value)      # no turn failed inside
            # forged actions never reach another citizen's case: only who proved it owns it follows it
            # (the sampled texts can make a real look-up: the code, then the phone's last four digits)
            for channel, user in await app.store.followers(CODE):
                assert CODE in (await app.store.get_state(channel, user)).get("verified", [])
        finally:
            await app.close()

    asyncio.run(run())


@pytest.mark.asyncio
async def test_case_codes_of_the_wrong_shape_are_explained(tmp_path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        await app.dialog.handle(Incoming("t", "u", text="tra cứu hồ sơ"))
        [reply] = await app.dialog.handle(Incoming("t", "u", text="000.00.27-2511-12"))
        assert "chưa đúng dạng mã hồ sơ" in reply.text
    finally:
        await app.close()


@pytest.mark.asyncio
async def test_the_global_brake_stops_those_who_failed_never_honest_citizens(tmp_path):
    """R3: successful look-ups counted towards a brake any one citizen could trip for everyone."""
    async with app_with_a_case(tmp_path, lookups_per_minute=3) as app:
        await app.dialog.handle(Incoming("t", "owner", text=f"tra cứu {CODE}"))
        await app.dialog.handle(Incoming("t", "owner", text="5678"))
        for _ in range(10):                                   # the owner looks again and again
            [again] = await app.dialog.handle(Incoming("t", "owner", text=f"tra cứu {CODE}"))
            assert again.text.startswith(f"Hồ sơ {CODE}")      # proved already: no digits asked
        for user in "abc":                                    # guessers trip the brake
            await app.dialog.handle(Incoming("t", user, text=f"tra cứu {CODE}"))
            await app.dialog.handle(Incoming("t", user, text="1234"))
        [guesser] = await app.dialog.handle(Incoming("t", "a", text=f"tra cứu {CODE}"))
        assert "quá tải" in guesser.text
        [honest] = await app.dialog.handle(Incoming("t", "d", text=f"tra cứu {CODE}"))
        assert "4 số cuối" in honest.text


@pytest.mark.asyncio
async def test_deleting_ones_data_does_not_reset_the_look_up_limit(tmp_path):
    """R2: "xóa dữ liệu của tôi" wiped the failed attempts, so one account could try all 10,000."""
    async with app_with_a_case(tmp_path) as app:
        say = lambda text: app.dialog.handle(Incoming("t", "x", text=text))  # noqa: E731
        for guess in ("1111", "2222", "3333", "4444", "5555"):
            await say(f"tra cứu {CODE}")
            await say(guess)
        await say("xóa dữ liệu của tôi")
        [done] = await app.dialog.handle(Incoming("t", "x", action="forget:confirm"))
        assert "Đã xóa" in done.text
        [still] = await say(f"tra cứu {CODE}")
        assert "sai quá nhiều lần" in still.text


@pytest.mark.asyncio
async def test_many_accounts_guessing_one_case_lock_it_for_everyone_and_staff_see_it(tmp_path):
    """R2: five tries per account per hour let 84 accounts cover one case a day."""
    config = make_config(tmp_path / "db.sqlite3", staff={"t": frozenset({"officer"})})
    app = await build_app(config)
    try:
        await app.desk.add(CODE, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678")
        for n in range(5):                                    # five accounts, two wrong tries each
            for guess in ("1000", "2000"):
                await app.dialog.handle(Incoming("t", f"acct{n}", text=f"tra cứu {CODE}"))
                await app.dialog.handle(Incoming("t", f"acct{n}", text=f"{guess[:1]}{n}{guess[2:]}"))
        await app.dialog.handle(Incoming("t", "owner", text=f"tra cứu {CODE}"))
        [owner] = await app.dialog.handle(Incoming("t", "owner", text="5678"))
        assert "tạm khóa tra cứu" in owner.text and "Trạng thái" not in owner.text
        [unknown] = await app.dialog.handle(Incoming("t", "owner", text="tra cứu 000.00.27.H15-251120-0099"))
        assert "4 số cuối" in unknown.text                    # other cases are not affected
        [view] = await app.dialog.handle(Incoming("t", "officer", text=f"/hoso xem {CODE}"))
        assert "Tra cứu đang tạm khóa: 10 lần nhập sai" in view.text
    finally:
        await app.close()


@pytest.mark.asyncio
async def test_citizen_can_delete_their_data_and_ratings_stay_anonymous(tmp_path):
    async with app_with_a_case(tmp_path) as app:
        say = lambda text: app.dialog.handle(Incoming("t", "u", text=text))  # noqa: E731
        await say(f"tra cứu {CODE}")
        await say("5678")
        await app.dialog.handle(Incoming("t", "u", action=f"follow:{CODE}"))
        await app.desk.update(CODE, "returned", "")
        await app.dialog.handle(Incoming("t", "u", action=f"rate:{CODE}:4"))
        [ask] = await say("xóa dữ liệu của tôi")
        assert "không hoàn tác" in ask.text
        [done] = await app.dialog.handle(Incoming("t", "u", action="forget:confirm"))
        assert "Đã xóa" in done.text
        assert await app.store.get_state("t", "u") == {}
        assert await app.store.followers(CODE) == []
        assert [r for r in await app.store.outbox_rows() if r.user == "u"] == []
        async with app.store.db.execute("SELECT level FROM ratings") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["4"]
        # the case itself is the office's record, not chat data
        assert (await app.desk.require(CODE)).name == "Nguyễn Văn An"


@pytest.mark.asyncio
async def test_purge_removes_old_personal_data_and_keeps_statistics(tmp_path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        old, new = "000.00.27.H15-230101-0001", "000.00.27.H15-261120-0002"
        await app.desk.add(old, "dang-ky-ket-hon", "Trần Cũ", "0912345678", received=dt.datetime(2023, 1, 2, 9))
        await app.desk.update(old, "returned", "", at=dt.datetime(2023, 1, 3, 9))
        rating = await app.store.add_rating(old, "t", "dang-ky-ket-hon", "", 5, "5", at=dt.datetime(2023, 1, 4, 9))
        await app.desk.add(new, "dang-ky-ket-hon", "Lê Mới", "0987654321")
        await app.store.db.execute("INSERT INTO conversations VALUES ('t', 'idle', '{}', '2023-01-01T00:00:00')")
        await app.store.save_state("t", "active", {"procedure": "dang-ky-khai-sinh"})
        counts = await app.store.purge(clock.now() - dt.timedelta(days=730))
        assert counts["cases anonymised"] == 1 and counts["conversations"] == 1
        purged = await app.desk.require(old)
        assert (purged.name, purged.phone, purged.status) == ("", "", "returned")
        assert (await app.desk.require(new)).name == "Lê Mới"
        assert await app.store.get_state("t", "active") != {}
        assert rating is not None and await app.store.rating(rating) is not None
    finally:
        await app.close()


@pytest.mark.asyncio
async def test_backup_while_running_is_a_complete_copy(tmp_path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        await app.desk.add(CODE, "dang-ky-ket-hon", "A", "0912345678")
        await app.store.backup(tmp_path / "backup" / "copy.sqlite3")
        copy = await Store.open(tmp_path / "backup" / "copy.sqlite3")
        assert (await copy.case(CODE)).procedure == "dang-ky-ket-hon"
        await copy.close()
    finally:
        await app.close()


SPACEY = st.text(alphabet=st.sampled_from([" ", "\n", "\u00a0", "\u2003", "\t", ".", "-", "1", "2", "0", "H", "x"]),
                 min_size=1, max_size=4096)
RUNS = ["123" + sep * 250 + "12" + sep * 250 + "12" + sep * 250 + "x" for sep in ("\n", "\u00a0", "\u2003")]
UNDERSTAND_ALL = """
import json, sys
from pathlib import Path
from bot import codes
from bot.catalog import load_catalog
from bot.classifier import load_model
from bot.matching import Matcher
catalog = load_catalog(Path("procedures"))
matcher = Matcher(catalog, load_model(catalog))
for text in json.load(sys.stdin):
    matcher.understand(matcher.read(text))
    codes.find(text, r"H\\d{2}\\.\\d{2}-\\d{8}-\\d{4}")
print("done")
"""


@settings(max_examples=2, deadline=None)
@given(texts=st.lists(SPACEY, min_size=25, max_size=25))
def test_any_mix_of_spaces_digits_and_dots_is_understood_in_bounded_work(texts):
    """R1: one 518-character message froze every citizen for 16 s. The regular-expression engine
    does not yield to signals, so the work is bounded from outside: a separate process must
    understand all of these, and the most adversarial shapes known, well within a generous limit
    (under a millisecond each is the norm; the old pattern took over a minute on one of them)."""
    batch = [*texts, *RUNS, ("1 . " * 1100)[:4096], ("000 00 27 " * 500)[:4096], "123" + "\n" * 4000 + "12"]
    done = subprocess.run([sys.executable, "-c", UNDERSTAND_ALL], input=json.dumps(batch), capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.stdout.strip() == "done", done.stderr[-2000:]
