"""Demo cases, so a newcomer running `motcua chat` sees the whole look-up flow at once."""

from __future__ import annotations

import datetime as dt

from bot.cases import CaseDesk
from bot.store import now

DEMO_PHONE = "0912345678"


async def ensure_demo_cases(desk: CaseDesk) -> list[str]:
    """Three cases in telling states, added only to a database that has no cases yet."""
    if await desk.store.cases():
        return []
    today = now().replace(hour=9, minute=30, second=0)
    plan = [
        ("0001", "dang-ky-thuong-tru", "Nguyễn Văn An", 2, [("processing", "")]),
        ("0002", "cap-giay-phep-xay-dung", "Trần Thị Bình", 4,
         [("needs_supplement", "Bản vẽ thiết kế có chữ ký của chủ nhà; bản sao giấy chứng nhận quyền sử dụng đất")]),
        ("0003", "dang-ky-bien-dong-dat-dai", "Lê Văn Cường", 30, [("processing", "Chờ Chi cục Thuế xác định nghĩa vụ tài chính")]),
    ]
    added = []
    for serial, procedure, name, days_ago, steps in plan:
        received = today - dt.timedelta(days=days_ago)
        code = f"000.00.27.H15-{received:%y%m%d}-{serial}"
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
