"""A citizen looking up a case: code, then a second factor, then status and following.

A case is shown only to someone who gives its code and the last four digits of the phone
registered with it. A wrong code and a wrong phone get the same words, so a stranger learns
nothing about which codes exist; five failures within an hour block look-ups for an hour.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot import codes
from bot.answers import MENU_BUTTON
from bot.cases import PAUSED, CaseDesk
from bot.clock import now
from bot.config import Office
from bot.messages import Button, Reply
from bot.storage import Store

MAX_FAILURES = 5
BLOCK = dt.timedelta(hours=1)
GLOBAL_PER_MINUTE = 300
"""Look-ups by everyone in a minute beyond which all wait: a brake on guessing codes with many
accounts, far above what one commune's citizens need."""
ASK_CODE = ("Bạn gửi mã hồ sơ in trên Giấy tiếp nhận và hẹn trả kết quả "
            "(ví dụ 000.00.27.H15-251120-0012).")
ASK_PHONE = ("Để bảo vệ thông tin của bạn, vui lòng nhập 4 số cuối của số điện thoại "
             "đã đăng ký khi nộp hồ sơ.")
REFUSED = ("Không tìm thấy hồ sơ khớp với mã và số điện thoại bạn nhập. Bạn kiểm tra lại "
           "mã trên Giấy tiếp nhận và thử lại.")


class Tracking:
    def __init__(self, desk: CaseDesk, store: Store, office: Office, per_minute: int = GLOBAL_PER_MINUTE):
        self.desk = desk
        self.store = store
        self.office = office
        self.per_minute = per_minute

    def cancel_button(self) -> tuple[Button, ...]:
        return (Button("Hủy", "menu"),)

    async def blocked(self, channel: str, user: str) -> Reply | None:
        if await self.store.lookups_since(now() - dt.timedelta(minutes=1)) >= self.per_minute:
            return Reply("Hệ thống tra cứu đang quá tải. Bạn vui lòng thử lại sau ít phút, hoặc gọi "
                         f"{self.office.hotline}.", (MENU_BUTTON,))
        if await self.store.failed_lookups(channel, user, now() - BLOCK) >= MAX_FAILURES:
            return Reply(
                "Bạn đã nhập sai quá nhiều lần nên tạm thời chưa tra cứu được. Bạn thử lại sau 1 giờ, "
                f"hoặc gọi {self.office.hotline} ({self.office.hours}).",
                (MENU_BUTTON,),
            )
        return None

    async def start(self, channel: str, user: str, state: dict[str, Any], code: str | None) -> list[Reply]:
        refusal = await self.blocked(channel, user)
        if refusal:
            state.pop("lookup", None)
            return [refusal]
        if code:
            state["lookup"] = {"code": code}
            return [Reply(ASK_PHONE, self.cancel_button())]
        state["lookup"] = {}
        return [Reply(ASK_CODE, self.cancel_button())]

    async def step(self, channel: str, user: str, state: dict[str, Any], text: str) -> list[Reply] | None:
        """The next look-up step, or None when the message is not part of the look-up."""
        lookup = state.get("lookup")
        if lookup is None:
            return None
        code = codes.find(text, self.desk.code_pattern)
        if code:
            return await self.start(channel, user, state, code)
        if "code" not in lookup:
            if codes.looks_like_code(text):
                return [Reply("Mã này chưa đúng dạng mã hồ sơ. " + ASK_CODE, self.cancel_button())]
            state.pop("lookup", None)
            return None
        digits = re.sub(r"\D", "", text)
        if len(digits) < 4 or len(text.strip()) > 20:
            state.pop("lookup", None)
            return None
        return await self.verify(channel, user, state, lookup["code"], digits[-4:])

    async def verify(self, channel: str, user: str, state: dict[str, Any], code: str, last4: str) -> list[Reply]:
        refusal = await self.blocked(channel, user)
        state.pop("lookup", None)
        if refusal:
            return [refusal]
        case = await self.desk.get(code)
        ok = case is not None and case.phone.endswith(last4)
        await self.store.record_lookup(channel, user, ok)
        if not ok or case is None:
            return [Reply(REFUSED, (Button("🔎 Tra cứu lại", "track"), MENU_BUTTON))]
        verified = [c for c in state.get("verified", []) if c != code][-19:]
        state["verified"] = [*verified, code]
        return [await self.view(channel, user, code)]

    async def view(self, channel: str, user: str, code: str) -> Reply:
        case = await self.desk.get(code)
        if case is None:
            return Reply(REFUSED, (MENU_BUTTON,))
        buttons: list[Button] = []
        if not case.closed:
            if await self.store.is_following(channel, user, code):
                buttons.append(Button("🔕 Bỏ theo dõi", f"unfollow:{code}"))
            else:
                buttons.append(Button("🔔 Theo dõi, báo khi có thay đổi", f"follow:{code}"))
        if case.status in PAUSED:
            buttons.append(Button("📄 Xem danh sách giấy tờ", f"proc:{case.procedure}:documents"))
        if case.status == "returned":
            buttons.append(Button("⭐ Đánh giá", f"rate:{code}"))
        buttons.append(MENU_BUTTON)
        return Reply(self.desk.view(case, self.office.hotline), tuple(buttons))

    def owns(self, state: dict[str, Any], code: str) -> bool:
        return code in state.get("verified", [])

    async def on_action(self, channel: str, user: str, state: dict[str, Any], kind: str, code: str) -> list[Reply]:
        """follow / unfollow / case buttons; honoured only for codes this user has verified."""
        if not (self.owns(state, code) or await self.store.is_following(channel, user, code)):
            return [Reply("Bạn cần tra cứu lại hồ sơ (mã và 4 số cuối điện thoại) trước khi thực hiện thao tác này.",
                          (Button("🔎 Tra cứu hồ sơ", "track"), MENU_BUTTON))]
        if kind == "follow":
            await self.store.follow(channel, user, code)
            return [Reply(f"Đã bật theo dõi hồ sơ {code}. Mình sẽ nhắn cho bạn mỗi khi hồ sơ chuyển trạng thái.",
                          (Button("🔕 Bỏ theo dõi", f"unfollow:{code}"), MENU_BUTTON))]
        if kind == "unfollow":
            await self.store.unfollow(channel, user, code)
            return [Reply(f"Đã tắt theo dõi hồ sơ {code}.", (MENU_BUTTON,))]
        return [await self.view(channel, user, code)]
