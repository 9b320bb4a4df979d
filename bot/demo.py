"""Demo data: three cases a newcomer running `motcua chat` can look up at once, and a month of
cases and ratings (`motcua demo seed`) to try the reports on.

The chat's three demo cases are filed with `DEMO_PHONE`, which is how they are found again on
every later start (and how a database holding only them is told from one with real cases).
"""

from __future__ import annotations

import datetime as dt

from bot.cases import CaseDesk
from bot.clock import now

DEMO_PHONE = "0912345678"


SEED_SERIALS_FROM = 101
"""The month's codes end in 0101…: never one of the chat's three (…-0001 to -0003) on the same day."""


async def demo_codes(desk: CaseDesk) -> list[str]:
    """The chat's demo cases in this database: shown on every start, not only the first."""
    return await desk.store.cases_with_phone(DEMO_PHONE)


async def only_demo_cases(desk: CaseDesk) -> bool:
    """Whether every case here is one of the chat's demo cases (a database no office uses yet)."""
    return await desk.store.case_count() == len(await demo_codes(desk))


def demo_prefix(desk: CaseDesk) -> str:
    """The demo's cases go to the first office of a deployment with several, whose prefix they carry."""
    return desk.offices[0].prefix or "000.00.27.H15"


async def ensure_demo_cases(desk: CaseDesk) -> list[str]:
    """Three cases in telling states, added only to a database that has no cases yet."""
    if await desk.store.case_count():
        return []
    today = now().replace(hour=9, minute=30, second=0)
    plan = [
        ("0001", "dang-ky-thuong-tru", "Nguyễn Văn An", 2, [("processing", "")]),
        ("0002", "cap-giay-phep-xay-dung", "Trần Thị Bình", 4,
         [("needs_supplement", "Bản vẽ thiết kế có chữ ký của chủ nhà; bản sao giấy chứng nhận quyền sử dụng đất")]),
        ("0003", "dang-ky-bien-dong-dat-dai", "Lê Văn Cường", 30,
         [("processing", "Chờ Chi cục Thuế xác định nghĩa vụ tài chính")]),
    ]
    added = []
    for serial, procedure, name, days_ago, steps in plan:
        received = today - dt.timedelta(days=days_ago)
        code = f"{demo_prefix(desk)}-{received:%y%m%d}-{serial}"
        await desk.add(code, procedure, name, DEMO_PHONE, received=received, staff="demo")
        for status, note in steps:
            await desk.update(code, status, note, "demo", at=received + dt.timedelta(hours=2))
        added.append(code)
    return added


def welcome(codes: list[str]) -> str:
    if not codes:
        return ""
    lines = "\n".join(f"  {c}" for c in codes)
    return (f"(Dữ liệu mẫu) Bạn có thể thử tra cứu các hồ sơ sau, 4 số cuối điện thoại là "
            f"{DEMO_PHONE[-4:]}:\n{lines}")


_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
_GIVEN = ["Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thị Hoa", "Đức Huy", "Thu Hà", "Ngọc Lan", "Văn Long",
          "Thị Mai", "Hữu Nam", "Thanh Tâm", "Thị Yến", "Công Vinh"]
_WEIGHTED = ["dang-ky-khai-sinh"] * 6 + ["chung-thuc-ban-sao"] * 6 + ["dang-ky-thuong-tru"] * 4 + \
    ["dang-ky-tam-tru"] * 4 + ["dang-ky-ket-hon"] * 3 + ["xac-nhan-tinh-trang-hon-nhan"] * 3 + \
    ["dang-ky-khai-tu"] * 2 + ["dang-ky-bien-dong-dat-dai"] * 2 + ["cap-giay-phep-xay-dung"] + \
    ["tro-cap-xa-hoi-hang-thang"] + ["chung-thuc-hop-dong"] * 2 + ["dang-ky-ho-kinh-doanh"]
_COMMENTS = {
    "1": ["Phải đi lại nhiều lần mới xong, mỗi lần bổ sung một thứ.", "Cán bộ nói chuyện thiếu tôn trọng."],
    "2": ["Chờ lâu, quá hẹn mà không ai báo.", "Hướng dẫn trên mạng khác với thực tế ở quầy."],
    "3": ["Bình thường, hơi đông người.", ""],
    "4": ["Nhanh gọn.", "", ""],
    "5": ["Cán bộ rất nhiệt tình, cảm ơn!", "", "", "Làm nhanh hơn tôi nghĩ."],
}


async def seed_month(desk: CaseDesk, days: int = 30, count: int = 120, *, force: bool = False) -> int:
    """A month of cases, outcomes, ratings, votes and feedback: into an empty database, or with
    `force` into one that holds only the chat's demo cases; never beside real cases (0)."""
    import random

    from bot.ratings import QUESTIONS

    if await desk.store.case_count() and not (force and await only_demo_cases(desk)):
        return 0
    rng = random.Random(2026)
    store, cal = desk.store, desk.calendar
    end = now()
    for serial in range(1, count + 1):
        procedure = rng.choice(_WEIGHTED)
        day = (end - dt.timedelta(days=rng.randint(1, days))).date()
        while not cal.is_working_day(day):
            day -= dt.timedelta(days=1)
        received = dt.datetime.combine(day, dt.time(rng.randint(7, 16), rng.choice([0, 15, 30, 45])))
        code = f"{demo_prefix(desk)}-{received:%y%m%d}-{serial + SEED_SERIALS_FROM - 1:04d}"
        name = f"{rng.choice(_FAMILY)} {rng.choice(_GIVEN)}"
        phone = f"09{rng.randint(10_000_000, 99_999_999)}"
        case = await desk.add(code, procedure, name, phone, received=received, staff="demo",
                              channel=rng.choice(["trực tiếp", "trực tiếp", "trực tuyến"]))
        at = received + dt.timedelta(hours=1)
        if rng.random() < 0.12:
            at += dt.timedelta(hours=20)
            await desk.update(code, "needs_supplement", rng.choice(
                ["Bản sao giấy tờ chứng minh chỗ ở hợp pháp", "Tờ khai chưa có chữ ký", "Giấy ủy quyền có chứng thực"]),
                "demo", at=at)
            if rng.random() < 0.35:
                continue
            at += dt.timedelta(days=rng.randint(1, 4))
            case = await desk.update(code, "processing", "Đã bổ sung đủ", "demo", at=at)
        elif case.due > received.date():
            case = await desk.update(code, "processing", "", "demo", at=at)
        late = rng.random() < 0.12
        early_day = max(at.date(), case.due - dt.timedelta(days=rng.randint(0, 2)))
        finish_day = cal.add_working_days(case.due, rng.randint(1, 3)) if late else early_day
        finish = dt.datetime.combine(finish_day, dt.time(rng.randint(8, 16), 0))
        if finish > end:
            continue
        if rng.random() < 0.03:
            await desk.update(code, "refused", "Không đủ điều kiện theo quy định", "demo", at=finish)
            continue
        await desk.update(code, "ready", "", "demo", at=finish)
        returned = finish + dt.timedelta(hours=rng.randint(1, 48))
        if returned > end:
            continue
        case = await desk.update(code, "returned", "", "demo", at=returned)
        if rng.random() < 0.7:
            level = rng.choices(["5", "4", "3", "2", "1"], [52, 28, 10, 6, 4] if not late else [15, 25, 20, 25, 15])[0]
            rated_at = returned + dt.timedelta(hours=rng.randint(1, 30))
            if rated_at > end:
                rated_at = end
            rating = await store.add_rating(code, rng.choice(["telegram", "telegram", "zalo"]), procedure,
                                            case.office, 5, level, at=rated_at, timeliness=case.timeliness(end.date()))
            assert rating is not None           # a case just added has no rating yet
            for key in ("visits", "attitude", "extra_fee"):
                if rng.random() < 0.8:
                    options = [v for v, _ in QUESTIONS[key].options]
                    good = level in {"5", "4"}
                    value = options[0] if good or rng.random() < 0.5 else rng.choice(options)
                    await store.set_rating_field(rating, key, value)
            comment = rng.choice(_COMMENTS[level])
            if comment:
                await store.set_rating_field(rating, "comment", comment)
            if level in {"1", "2"} and rng.random() < 0.6:
                await store.set_rating_field(rating, "contact_code", code)
    for guide_id in sorted(set(_WEIGHTED)):
        for i in range(rng.randint(3, 9)):
            qid = await store.log_question("telegram", desk.catalog[guide_id].questions[i % 5], "procedure",
                                           guide_id, None, 0.8, True)
            await store.vote(qid, "telegram", "up" if rng.random() < 0.82 else "down")
    for kind, text in [("complaint", "Gọi hotline mãi không ai nghe máy."),
                       ("complaint", "Nộp hồ sơ 3 lần vẫn bị trả về, mỗi lần thiếu một thứ."),
                       ("praise", "Cán bộ một cửa hướng dẫn rất tận tình.")]:
        await store.add_feedback("telegram", kind, text)
    return count
