"""Every sentence a citizen or an officer reads, in one place: short, concrete, Vietnamese first.

Everything a citizen reads about a procedure comes from its guide, so correcting a guide
corrects every answer; everything else the bot says is written here, so a wording change is one
edit and a reviewer reads the bot's whole voice in one file. Replies are plain text (no markup),
which every platform shows as typed and which no citizen input can break. Notifications are
stored as facts and put into words here when they are delivered, so a change of wording reaches
notifications still waiting.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from bot import actions, clock
from bot.actions import button
from bot.cases import STATUS_NAMES, Case
from bot.catalog import ASPECTS, Catalog, Document, FeeItem, Guide
from bot.config import Office
from bot.elsewhere import Agency
from bot.messages import Button, Reply
from bot.places import Place
from bot.privacy import mask_phone
from bot.statuses import PAUSED, RESULT
from bot.storage import OutboxRow, UnansweredRow
from bot.timeline import Coming, as_of, coming

SECTION_LABELS = {
    "documents": "Giấy tờ", "fees": "Lệ phí", "processing_time": "Thời gian", "where": "Nơi nộp",
    "online": "Nộp trực tuyến", "forms": "Mẫu đơn", "eligibility": "Điều kiện", "steps": "Các bước",
    "legal_basis": "Căn cứ pháp lý",
}
SECTION_TITLES = {
    "documents": "📄 Giấy tờ cần chuẩn bị", "fees": "💰 Lệ phí", "processing_time": "⏱ Thời gian giải quyết",
    "where": "📍 Nơi nộp hồ sơ", "online": "🌐 Nộp trực tuyến", "forms": "📝 Mẫu đơn, tờ khai",
    "eligibility": "✅ Điều kiện và thời hạn", "steps": "🔢 Các bước thực hiện", "legal_basis": "⚖️ Căn cứ pháp lý",
}
MENU_BUTTON = button("☰ Menu", actions.Menu())
TRACK_BUTTON = button("🔎 Tra cứu hồ sơ", actions.Track())
_ASIDES = re.compile(r"\s*\([^()]*\)")
FOOTER_BASIS_ITEMS = 2
"""Legal texts named in every answer's footer; the rest are counted and a button shows them all."""
_SHOWN_IN = {"citizen_deadline": "eligibility", "result": None}
"""Parts of a guide shown inside another answer: the citizen's deadline under eligibility, the result in
the overview."""


def _answer_of(section: str | None) -> str | None:
    """The answer a section's caveats and changes are shown in (None: the overview)."""
    return _SHOWN_IN.get(section, section) if section else None


def _money(item: FeeItem) -> str:
    """The amount as what it is: a national rate is never said to be set by the province."""
    if item.kind == "fixed" and item.amount_vnd:
        return f"{item.amount_vnd:,}".replace(",", ".") + " đồng"
    if item.kind == "province":
        return "theo mức HĐND tỉnh quy định"
    if item.kind == "national_rate":
        return f"{item.rate} (theo {item.set_by})"
    if item.kind == "service_price":
        return "giá dịch vụ theo " + (item.set_by or "bảng giá của đơn vị cung cấp")
    return "miễn phí"


def _fee_line(item: FeeItem) -> str:
    return f"{item.name}: {_money(item)}" + (f" ({item.note})" if item.note else "")


def _document_line(d: Document) -> str:
    detail = ", ".join(x for x in (d.original_or_copy, f"{d.count} bản" if d.count > 1 else "") if x)
    return d.name + (f" ({detail})" if detail else "") + (f": {d.note}" if d.note else "")


def _item_text(item: object) -> str:
    if isinstance(item, FeeItem):
        return _fee_line(item)
    if isinstance(item, Document):
        return _document_line(item)
    return str(getattr(item, "text", ""))


def _announcement(c: Coming) -> str:
    """ "Từ 01/03/2027, …": what changes on a date the citizen should plan around."""
    if c.summary:
        return f"🗓 {c.summary}"
    if c.ending:
        return f"🗓 Từ {c.on:%d/%m/%Y}, không còn áp dụng: {_item_text(c.item)}"
    return f"🗓 Từ {c.on:%d/%m/%Y}: {_item_text(c.item)}"


def section_text(guide: Guide, aspect: str, on: dt.date | None = None) -> str:
    """The body of one section of a guide as it holds on the day (today in Vietnam unless given),
    with the caveats that qualify it and the changes coming within 90 days."""
    day = on or clock.today()
    g = as_of(guide, day)
    lines = _section_body(g, aspect)
    lines += [_announcement(c) for c in coming(guide, day) if _answer_of(c.section) == aspect]
    lines += [f"⚠️ Lưu ý: {c.text}" for c in g.caveats if _answer_of(c.about) == aspect]
    return "\n".join(lines)


def _section_body(g: Guide, aspect: str) -> list[str]:
    lines: list[str] = []
    if aspect == "documents":
        lines += [f"• {_document_line(d)}" for d in g.documents]
        if g.documents_note:
            lines.append(g.documents_note)
    elif aspect == "fees":
        lines.append(g.fees.text)
        lines += [f"• {_fee_line(i)}" for i in g.fees.items]
        if g.fees.exemptions:
            lines += ["Miễn, giảm:"] + [f"• {e.text}" for e in g.fees.exemptions]
    elif aspect == "processing_time":
        lines.append(g.processing_time.text)
        if g.citizen_deadline:
            lines.append("Đây là thời gian cơ quan giải quyết hồ sơ, không phải thời hạn bạn phải đi làm thủ tục. "
                         f"Thời hạn của bạn: {g.citizen_deadline.text}")
    elif aspect == "where":
        lines += [g.where, f"Cơ quan giải quyết: {g.authority}"]
    elif aspect == "online":
        lines.append(g.online.text)
        if g.online.available and g.online.channels:
            lines.append("Kênh: " + ", ".join(g.online.channels))
    elif aspect == "forms":
        if g.forms:
            lines += [f"• {f.code}: {f.name}" + (f" ({f.note})" if f.note else "") for f in g.forms]
        else:
            lines.append("Thủ tục này không có mẫu riêng phải tự in; cán bộ một cửa sẽ hướng dẫn khi bạn nộp.")
    elif aspect == "eligibility":
        if g.citizen_deadline:
            lines.append(f"⏰ Thời hạn của bạn: {g.citizen_deadline.text}")
        lines += [f"• {e.text}" for e in g.eligibility]
    elif aspect == "steps":
        lines += [f"{i}. {s}" for i, s in enumerate(g.steps, 1)]
    elif aspect == "legal_basis":
        lines += [f"• {n.text}" for n in g.legal_basis]
    return lines


def _short_title(text: str) -> str:
    """A legal text by its name and number alone: what amended it and which articles apply stay in
    the legal basis section, a tap away. With them the footer under every answer ran to 200
    characters ("Nghị định 123/2015/NĐ-CP (sửa đổi bởi Nghị định 87/2020/NĐ-CP, …)")."""
    return _ASIDES.sub("", text).rstrip(".")


def _footer(guide: Guide, aspect: str | None) -> str:
    """The legal basis (named in part, counted in whole) and, honestly, whether a person checked the guide."""
    if guide.reviewed:
        review = f"Cán bộ đã kiểm tra ngày {guide.reviewed:%d/%m/%Y}"
    else:
        review = "Nội dung chưa được cán bộ kiểm tra; bạn đối chiếu thêm trên dichvucong.gov.vn"
    if aspect == "legal_basis":
        return review
    shown = [_short_title(n.text) for n in guide.legal_basis[:FOOTER_BASIS_ITEMS]]
    more = len(guide.legal_basis) - len(shown)
    basis = "; ".join(shown) + (f" và {more} văn bản khác (bấm “Căn cứ pháp lý”)" if more > 0 else "")
    return f"Căn cứ: {basis} · {review}"


def section_buttons(guide: Guide, current: str | None) -> tuple[Button, ...]:
    others = tuple(button(SECTION_LABELS[a], actions.Procedure(guide.id, a)) for a in ASPECTS if a != current)
    return (*others, MENU_BUTTON)


def procedure_answer(guide: Guide, aspect: str | None, *, english: bool = False, on: dt.date | None = None) -> Reply:
    """The part the citizen asked for first, then buttons for the other parts; the facts are those in force
    on the day (today in Vietnam unless given)."""
    day = on or clock.today()
    g = as_of(guide, day)
    parts: list[str] = []
    if english:
        parts.append(f"Here is what you need to know about {guide.name_en} (in Vietnamese, as the office uses it):")
    if aspect:
        parts.append(f"{g.name} · {SECTION_TITLES[aspect]}\n{section_text(guide, aspect, day)}")
    else:
        parts.append(
            f"{g.name}\n"
            f"Kết quả: {g.result}\n"
            f"⏱ {g.processing_time.text}\n"
            f"💰 {g.fees.text}\n"
            f"📍 {g.where}"
        )
        general = [f"⚠️ Lưu ý: {c.text}" for c in g.caveats if _answer_of(c.about) is None]
        news = [_announcement(c) for c in coming(guide, day) if c.summary or _answer_of(c.section) is None]
        if general or news:
            parts.append("\n".join(news + general))
        parts.append("Bạn muốn xem phần nào?")
    parts.append(_footer(g, aspect))
    return Reply("\n\n".join(parts), section_buttons(guide, aspect))


def greeting(office: Office, catalog: Catalog, *, english: bool = False, extra: str = "") -> Reply:
    lead = ("Hello! I answer questions about public-service procedures (in Vietnamese). " if english else "")
    text = (
        f"{lead}Xin chào! Mình là trợ lý ảo của {office.name}.\n"
        "Bạn có thể gõ câu hỏi, ví dụ \"làm giấy khai sinh cho con cần gì\", \"tra cứu hồ sơ\", "
        "hoặc chọn lĩnh vực bên dưới."
    )
    return Reply(text + (f"\n\n{extra}" if extra else ""), group_buttons(catalog))


def group_buttons(catalog: Catalog) -> tuple[Button, ...]:
    groups = tuple(button(g, actions.Group(i)) for i, g in enumerate(catalog.groups()))
    return (*groups, TRACK_BUTTON, button("⭐ Đánh giá", actions.Rate()))


def group_menu(catalog: Catalog, index: int) -> Reply | None:
    groups = catalog.groups()
    names = list(groups)
    if not 0 <= index < len(names):
        return None
    guides = groups[names[index]]
    return Reply(
        f"Lĩnh vực {names[index]}: bạn chọn thủ tục.",
        (*tuple(button(g.name, actions.Procedure(g.id)) for g in guides), MENU_BUTTON),
    )


def clarification(catalog: Catalog, ids: list[str], aspect: str | None, *, english: bool = False,
                  elsewhere: Agency | None = None) -> Reply:
    """`elsewhere`: a matter of another agency the message also speaks of (a dispute, a lawyer's
    advice): a letter that is really about it learns where to go without choosing first."""
    lead = "I am not sure which procedure you mean. " if english else ""
    buttons = tuple(
        button(catalog[gid].name, actions.Procedure(gid, aspect)) for gid in ids
    )
    other = "" if elsewhere is None else f"\nNếu bạn hỏi về {_unit(elsewhere.topic)}: {elsewhere.agency}"
    if len(ids) == 1:
        return Reply(f"{lead}Có phải bạn hỏi về {catalog[ids[0]].name}? Bạn bấm để xem hướng dẫn, hoặc gõ lại câu "
                     f"hỏi rõ hơn.{other}", (*buttons, MENU_BUTTON))
    return Reply(
        f"{lead}Có phải bạn hỏi về {catalog[ids[0]].name}, hay một trong các thủ tục sau? Bạn chọn giúp mình, "
        f"hoặc gõ lại câu hỏi rõ hơn.{other}",
        (*buttons, MENU_BUTTON),
    )


def out_of_scope(office: Office, agency: Agency | None = None, *, english: bool = False) -> Reply:
    """Never a guess at a procedure we do not cover: who handles it, where that is known."""
    lead = "Sorry, I cannot help with that. " if english else ""
    if agency is None:
        return Reply(
            f"{lead}Xin lỗi, nội dung này mình chưa hỗ trợ nên không dám hướng dẫn sai. "
            f"Bạn vui lòng gọi đường dây nóng {office.hotline} ({office.hours}) "
            f"hoặc đến {office.name}, {office.address} để được giúp.",
            (MENU_BUTTON,),
        )
    check = ("" if agency.certain else " Thông tin này có thể đã thay đổi: bạn kiểm tra lại với cơ quan đó hoặc trên "
             "Cổng Dịch vụ công quốc gia (dichvucong.gov.vn).")
    return Reply(
        f"{lead}{agency.topic}: việc này không thuộc thủ tục của {office.name} nên mình chưa hỗ trợ hướng dẫn "
        "chi tiết.\n"
        f"📍 Nơi giải quyết: {agency.agency}{check}\n"
        f"Cần hỏi thêm, bạn gọi {office.hotline} ({office.hours}).",
        (MENU_BUTTON,),
    )


def _unit(name: str) -> str:
    """A unit's name inside a sentence: "xã Búng Lao", "tỉnh Điện Biên" (the 2025 list capitalises the kind)."""
    return name[:1].lower() + name[1:]


def place_line(place: Place) -> str:
    if place.old_names:
        old = ", ".join(_unit(n) for n in place.old_names)
        return f"Địa chỉ cũ {old} nay thuộc {_unit(place.commune)}, {_unit(place.province)} (từ 01/7/2025)."
    return f"Bạn thuộc {_unit(place.commune)}, {_unit(place.province)}."


def desk_line(place: Place, desk: Office | None, *, elsewhere: bool) -> str:
    """Where that commune's citizens file: this desk when it is theirs; otherwise their commune's own
    one-stop desk, and for another province its portal, since this bot does not know their desk."""
    commune = _unit(place.commune)
    if elsewhere:
        return (f"{place.commune} không thuộc địa bàn mình hỗ trợ. Bạn nộp hồ sơ tại Bộ phận Một cửa "
                f"(Trung tâm Phục vụ hành chính công) của {commune}, hoặc trực tuyến trên Cổng Dịch vụ công "
                f"quốc gia dichvucong.gov.vn hay cổng dịch vụ công của {_unit(place.province)}.")
    if desk is not None:
        return f"Nơi nộp hồ sơ: {desk.name}\n📍 {desk.address}\n🕘 {desk.hours}\n☎️ {desk.hotline}"
    return (f"Nơi nộp hồ sơ: Bộ phận Một cửa (Trung tâm Phục vụ hành chính công) của {commune}; "
            "nhiều thủ tục cũng nộp được trực tuyến trên dichvucong.gov.vn.")


def place_answer(place: Place, desk: Office | None, *, elsewhere: bool) -> Reply:
    """The answer to a message that only says where the citizen lives."""
    return Reply(
        f"{place_line(place)}\n{desk_line(place, desk, elsewhere=elsewhere)}\n\n"
        f"Mình sẽ nhớ {_unit(place.commune)}: khi bạn hỏi một thủ tục nộp ở đâu, mình trả lời theo nơi này.",
        (MENU_BUTTON,),
    )


def with_place(reply: Reply, place: Place, desk: Office | None, *, elsewhere: bool) -> Reply:
    """A "nộp ở đâu" answer for a citizen who said where they live: their commune's desk added."""
    line = f"📍 Với địa chỉ của bạn ({_unit(place.commune)}):\n{desk_line(place, desk, elsewhere=elsewhere)}"
    return Reply(f"{reply.text}\n\n{line}", reply.buttons, reply.attachment)


def contact(office: Office, *, forwarded_ref: str | None = None, english: bool = False) -> Reply:
    lead = "Here is how to reach a staff member. " if english else ""
    text = (
        f"{lead}Bạn có thể liên hệ cán bộ {office.name}:\n"
        f"☎️ {office.hotline}\n🕘 {office.hours}\n📍 {office.address}"
    )
    if forwarded_ref:
        text += (f"\n\nMình đã chuyển câu hỏi của bạn cho cán bộ (mã {forwarded_ref}); "
                 "cán bộ sẽ trả lời trong giờ làm việc.")
    return Reply(text, (MENU_BUTTON,))


def goodbye(*, english: bool = False) -> Reply:
    lead = "You're welcome! " if english else ""
    return Reply(f"{lead}Cảm ơn bạn! Khi cần, bạn cứ nhắn cho mình nhé. 😊", (MENU_BUTTON,))


# the conversation

def apology(office: Office) -> Reply:
    """A turn that failed: the citizen learns how to reach a person, never what broke."""
    return Reply(f"Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được. Bạn thử lại sau ít phút, "
                 f"hoặc gọi {office.hotline} ({office.hours}).", (MENU_BUTTON,))


def text_only(office: Office) -> Reply:
    """A sticker, a photo or a message kind the platform could not pass on."""
    return Reply("Xin lỗi, mình chưa đọc được tin nhắn này: mình chỉ đọc được tin nhắn dạng chữ. Bạn gõ câu hỏi "
                 f"giúp mình nhé, ví dụ \"đăng ký tạm trú cần gì\", hoặc gọi {office.hotline} để được hướng dẫn "
                 "trực tiếp.", (MENU_BUTTON,))


NUMBERED_HINT = "(Trả lời bằng số để chọn)"
CONSOLE_GOODBYE = "Tạm biệt! Gõ motcua chat để trò chuyện tiếp khi cần."
CONSOLE_RESUMED = "Tiếp tục cuộc trò chuyện trước. Gõ menu để về danh mục, thoát (hoặc Ctrl-C) để kết thúc."
ACKNOWLEDGED = Reply("👍 Bạn cần hỏi gì thêm cứ nhắn cho mình nhé.", (MENU_BUTTON,))
SLOW_DOWN = Reply("Bạn nhắn nhanh quá, mình chưa kịp trả lời hết. Bạn đợi khoảng một phút rồi nhắn tiếp giúp mình nhé.")
COMMANDS = [
    ("start", "Bắt đầu, xem danh mục thủ tục"), ("menu", "Danh mục thủ tục"),
    ("tracuu", "Tra cứu hồ sơ đã nộp"), ("help", "Hướng dẫn sử dụng"),
]
"""The commands a platform lists in its menu, with what each does."""
STALE_CHOICE = "Lựa chọn này không còn hiệu lực. Bạn chọn lại giúp mình nhé."
FORGET_CONFIRM = Reply(
    "Bạn muốn xóa dữ liệu trò chuyện và các hồ sơ đang theo dõi của mình? Việc này không "
    "hoàn tác được. (Hồ sơ tại cơ quan và đánh giá ẩn danh vẫn được giữ theo quy định.)",
    (button("🗑 Xác nhận xóa", actions.Forget()), button("Không xóa", actions.Menu())))
FORGOTTEN = Reply("Đã xóa dữ liệu trò chuyện, các hồ sơ bạn theo dõi và tin nhắn chờ gửi của bạn. "
                  "Các đánh giá bạn đã gửi được giữ lại dưới dạng ẩn danh.", (MENU_BUTTON,))
VOTED_ALREADY = Reply("Bạn đã đánh giá câu trả lời này rồi. Cảm ơn bạn!", (MENU_BUTTON,))
VOTE_THANKS = Reply("Cảm ơn bạn! 😊", (MENU_BUTTON,))


def vote_buttons(question: int) -> tuple[Button, ...]:
    return (button("👍 Hữu ích", actions.Vote(question, up=True)),
            button("👎 Chưa hữu ích", actions.Vote(question, up=False)))


def offer_forward(question: int) -> Reply:
    return Reply("Cảm ơn bạn đã cho biết. Bạn có muốn chuyển câu hỏi này cho cán bộ trả lời không?",
                 (button("📨 Chuyển cho cán bộ", actions.ForwardQuestion(question)), MENU_BUTTON))


def no_staff_chat(office: Office) -> Reply:
    """A 👎 where no staff chat is configured: no pretending to forward, but how to ask a person."""
    return Reply("Cảm ơn bạn đã cho biết. Kênh này chưa chuyển được câu hỏi cho cán bộ, bạn hỏi trực tiếp giúp mình:\n"
                 f"☎️ {office.hotline} ({office.hours})\n📍 {office.name}, {office.address}", (MENU_BUTTON,))


def handoff_note(ref: str, channel: str, text: str) -> str:
    """What the staff chat reads when a citizen asks for a person."""
    return f"Công dân cần gặp cán bộ (mã {ref}, kênh {channel}):\n{text}"


def feedback_ack(kind: str, office: Office) -> Reply:
    """Complaints are told how they will be handled; praise and other remarks are thanked."""
    if kind == "complaint":
        return Reply(
            "Chúng tôi xin lỗi vì trải nghiệm chưa tốt của bạn. Phản ánh của bạn đã được ghi nhận và chuyển "
            "lãnh đạo Bộ phận Một cửa xem xét, trả lời trong giờ làm việc. Nếu cần gấp, bạn gọi "
            f"{office.hotline} ({office.hours}).",
            (MENU_BUTTON,),
        )
    if kind == "praise":
        return Reply("Cảm ơn bạn rất nhiều! Lời khen của bạn đã được ghi nhận và gửi tới các cán bộ. 😊",
                     (MENU_BUTTON,))
    return Reply("Cảm ơn bạn đã góp ý. Ý kiến của bạn đã được ghi nhận và gửi tới lãnh đạo Bộ phận Một cửa.",
                 (MENU_BUTTON,))


# looking up a case

ASK_CODE = ("Bạn gửi mã hồ sơ in trên Giấy tiếp nhận và hẹn trả kết quả "
            "(ví dụ 000.00.27.H15-251120-0012).")
ASK_PHONE = ("Để bảo vệ thông tin của bạn, vui lòng nhập 4 số cuối của số điện thoại "
             "đã đăng ký khi nộp hồ sơ.")
ASK_ID = ("Để bảo vệ thông tin của bạn, vui lòng nhập 4 số cuối của số căn cước của người đứng tên "
          "hồ sơ (in trên thẻ căn cước).")
REFUSED = ("Không tìm thấy hồ sơ khớp với mã và số điện thoại bạn nhập. Bạn kiểm tra lại "
           "mã trên Giấy tiếp nhận và thử lại.")
CANCEL = (button("Hủy", actions.Menu()),)
NOT_A_CODE = "Mã này chưa đúng dạng mã hồ sơ. "


def lookups_overloaded(office: Office) -> Reply:
    return Reply("Hệ thống tra cứu đang quá tải. Bạn vui lòng thử lại sau ít phút, hoặc gọi "
                 f"{office.hotline}.", (MENU_BUTTON,))


def too_many_failures(office: Office) -> Reply:
    return Reply("Bạn đã nhập sai quá nhiều lần nên tạm thời chưa tra cứu được. Bạn thử lại sau 1 giờ, "
                 f"hoặc gọi {office.hotline} ({office.hours}).", (MENU_BUTTON,))


def case_locked(office: Office) -> Reply:
    return Reply("Hồ sơ này đang tạm khóa tra cứu vì có nhiều lần nhập sai số điện thoại. Bạn vui lòng liên hệ "
                 f"{office.name} ({office.hotline}, {office.hours}) và mang Giấy tiếp nhận để được tra cứu.",
                 (MENU_BUTTON,))


REFUSED_REPLY = Reply(REFUSED, (button("🔎 Tra cứu lại", actions.Track()), MENU_BUTTON))
PROVE_FIRST = Reply("Bạn cần tra cứu lại hồ sơ (mã và 4 số cuối điện thoại) trước khi thực hiện thao tác này.",
                    (TRACK_BUTTON, MENU_BUTTON))


def following(code: str) -> Reply:
    return Reply(f"Đã bật theo dõi hồ sơ {code}. Mình sẽ nhắn cho bạn mỗi khi hồ sơ chuyển trạng thái.",
                 (button("🔕 Bỏ theo dõi", actions.Unfollow(code)), MENU_BUTTON))


def unfollowed(code: str) -> Reply:
    return Reply(f"Đã tắt theo dõi hồ sơ {code}.", (MENU_BUTTON,))


FOLLOW_LABEL = "🔔 Theo dõi, báo khi có thay đổi"
UNFOLLOW_LABEL = "🔕 Bỏ theo dõi"
DOCUMENTS_LABEL = "📄 Xem danh sách giấy tờ"
RATE_LABEL = "⭐ Đánh giá"

# status: (what it means, what happens next) in the citizen's words; the status's name is in cases.py
STATUS_TEXTS: dict[str, tuple[str, str]] = {
    "submitted": ("Hồ sơ bạn nộp trực tuyến đã đến Bộ phận Một cửa, đang chờ cán bộ kiểm tra.",
                  "Cán bộ sẽ tiếp nhận, hoặc báo bạn bổ sung trong tối đa 03 ngày làm việc."),
    "received": ("Hồ sơ đã được tiếp nhận đầy đủ.", "Hồ sơ được chuyển tới bộ phận chuyên môn để giải quyết."),
    "processing": ("Cán bộ chuyên môn đang giải quyết hồ sơ của bạn.", "Khi có kết quả, bạn sẽ được báo để đến nhận."),
    "needs_supplement": ("Hồ sơ còn thiếu hoặc chưa đúng nên chưa giải quyết tiếp được.",
                         "Bạn bổ sung giấy tờ còn thiếu tại Bộ phận Một cửa hoặc trực tuyến; thời hạn giải quyết"
                         " được tính lại từ khi hồ sơ đủ."),
    "awaiting_fees": ("Hồ sơ đang chờ bạn nộp phí, lệ phí hoặc nghĩa vụ tài chính.",
                      "Bạn nộp theo thông báo đã nhận; sau đó hồ sơ được giải quyết tiếp."),
    "transferred": ("Hồ sơ đã được chuyển tới cơ quan có thẩm quyền giải quyết.",
                    "Kết quả sẽ được trả về Bộ phận Một cửa nơi bạn nộp."),
    "ready": ("Hồ sơ đã giải quyết xong.",
              "Bạn mang Giấy tiếp nhận và giấy tờ tùy thân đến Bộ phận Một cửa để nhận kết quả."),
    "returned": ("Bạn đã nhận kết quả.", "Không cần làm gì thêm."),
    "refused": ("Hồ sơ không đủ điều kiện để giải quyết.", "Bạn xem lý do; nếu chưa rõ, liên hệ Bộ phận Một cửa."),
    "withdrawn": ("Hồ sơ đã được rút theo đề nghị của bạn.", "Không cần làm gì thêm."),
    "stopped": ("Hồ sơ đã dừng xử lý.", "Bạn xem lý do; nếu chưa rõ, liên hệ Bộ phận Một cửa."),
}


# ratings

RATE_AFTER_LOOKUP = Reply("Bạn cần tra cứu hồ sơ (mã và 4 số cuối điện thoại) trước khi đánh giá.",
                          (TRACK_BUTTON, MENU_BUTTON))
RATE_AFTER_RESULT = Reply("Bạn có thể đánh giá sau khi đã nhận kết quả hồ sơ. Cảm ơn bạn!", (MENU_BUTTON,))
RATE_HOW = Reply("Để đánh giá, bạn tra cứu hồ sơ đã nhận kết quả (mã hồ sơ và 4 số cuối điện thoại), "
                 "sau đó bấm ⭐ Đánh giá.", (TRACK_BUTTON, MENU_BUTTON))


def rating_prompt_text(code: str) -> str:
    return f"Bạn hài lòng thế nào với việc giải quyết hồ sơ {code}?"


def rated_already(code: str) -> Reply:
    return Reply(f"Đánh giá cho hồ sơ {code} đã được ghi nhận trước đó. Cảm ơn bạn!", (MENU_BUTTON,))


def rating_question(step: int, total: int, text: str, buttons: tuple[Button, ...]) -> Reply:
    lead = "Cảm ơn bạn! " if step == 0 else ""
    return Reply(f"{lead}({step + 1}/{total}, có thể bỏ qua) {text}", buttons)


SKIP_LABEL = "Bỏ qua"


def ask_comment(code: str) -> Reply:
    return Reply("Bạn có góp ý gì thêm không? Gõ góp ý của bạn, hoặc bấm Bỏ qua.",
                 (button(SKIP_LABEL, actions.RatingAnswer(code, "comment")),))


def ask_contact(code: str) -> Reply:
    return Reply("Chúng tôi rất tiếc vì bạn chưa hài lòng. Bạn có đồng ý để lãnh đạo bộ phận một cửa "
                 "liên hệ lại với bạn về hồ sơ này không?",
                 (button("Đồng ý", actions.RatingAnswer(code, "contact", "yes")),
                  button("Không", actions.RatingAnswer(code, "contact", "no"))))


RATING_DONE = Reply("Cảm ơn bạn đã đánh giá! Ý kiến của bạn giúp bộ phận một cửa phục vụ tốt hơn.", (MENU_BUTTON,))



# a case, as its owner and as staff see it

def case_view(case: Case, guide: Guide | None, office: Office, today: dt.date, days_left: int) -> str:
    """The look-up answer for the citizen who proved the case is theirs. Where a deployment
    serves several communes (an office with a code), it says which one holds the case and how
    to reach that desk, since the province's bot is not the place to go."""
    meaning, nxt = STATUS_TEXTS[case.status]
    hotline = office.hotline
    lines = [
        f"Hồ sơ {case.code}",
        *([f"Nơi giải quyết: {office.name}, {office.address}", f"☎️ {office.hotline} ({office.hours})"]
          if office.code else []),
        f"Thủ tục: {guide.name if guide else case.procedure}",
        f"Trạng thái: {STATUS_NAMES[case.status]}. {meaning}",
        f"Nhận hồ sơ: {case.received:%H:%M %d/%m/%Y}",
    ]
    timeliness = case.timeliness(today)
    if case.status in PAUSED:
        lines.append("Thời hạn giải quyết tạm dừng trong khi chờ bổ sung.")
    elif not case.closed and case.status not in RESULT:
        if timeliness == "overdue":
            lines.append(f"Hẹn trả: {case.due:%d/%m/%Y}, đã quá hạn {-days_left} ngày làm việc.")
        elif days_left == 0:
            lines.append(f"Hẹn trả: hôm nay, {case.due:%d/%m/%Y}.")
        else:
            lines.append(f"Hẹn trả: {case.due:%d/%m/%Y} (còn {days_left} ngày làm việc, đúng hạn).")
    else:
        verdict = {"early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn"}[timeliness]
        lines.append(f"Hẹn trả: {case.due:%d/%m/%Y}; giải quyết {verdict}.")
    if case.status in PAUSED:
        lines.append(f"Cần bổ sung: {case.last_note() or 'liên hệ Bộ phận Một cửa để biết chi tiết'}")
        if case.supplement_by:
            lines.append(f"Hạn bổ sung: {case.supplement_by:%d/%m/%Y}; quá hạn này hồ sơ có thể bị đóng.")
    elif case.status in {"refused", "stopped"} and case.last_note():
        lines.append(f"Lý do: {case.last_note()}")
    if timeliness == "overdue":
        reason = case.last_note()
        lines.append("Chúng tôi thành thật xin lỗi vì hồ sơ của bạn đã quá hạn."
                     + (f" Lý do: {reason}." if reason else "")
                     + f" Bạn có thể gọi {hotline} để được lãnh đạo bộ phận một cửa hỗ trợ.")
    if nxt:
        lines.append(f"Tiếp theo: {nxt}")
    return "\n".join(lines)


TIMELINESS_WORDS = {
    "early": "giải quyết trước hạn", "on_time": "giải quyết đúng hạn", "late": "giải quyết quá hạn",
    "in_time": "đang trong hạn", "overdue": "đang quá hạn",
}
"""`Case.timeliness` as staff read it in lists, case views and reports."""


def procedure_name(catalog: Catalog, procedure: str) -> str:
    """A procedure as staff know it; an id no longer in the catalogue is shown as it was stored."""
    guide = catalog.guides.get(procedure)
    return guide.name if guide else procedure


def staff_case_view(case: Case, today: dt.date, catalog: Catalog, lookup_failures: int = 0,
                    locked: bool = False) -> str:
    steps = [f"  {s.at:%d/%m/%Y %H:%M} {STATUS_NAMES.get(s.status, s.status)}" + (f": {s.note}" if s.note else "")
             + (f" ({s.staff})" if s.staff else "") for s in case.history]
    lookups = []
    if locked:
        lookups.append(f"⚠️ Tra cứu đang tạm khóa: {lookup_failures} lần nhập sai số điện thoại trong 24 giờ qua "
                       "(có thể có người dò mã). Công dân đến trực tiếp sẽ được tra cứu tại quầy.")
    elif lookup_failures:
        lookups.append(f"Tra cứu: {lookup_failures} lần nhập sai số điện thoại trong 24 giờ qua.")
    return "\n".join([
        f"{case.code} · {procedure_name(catalog, case.procedure)}",
        f"Trạng thái: {STATUS_NAMES[case.status]} · hẹn trả {case.due:%d/%m/%Y} · "
        f"{TIMELINESS_WORDS[case.timeliness(today)]}",
        f"Người nộp: {case.name} · ĐT {mask_phone(case.phone)} · kênh {case.channel}",
        *lookups,
        "Quá trình:",
        *steps,
    ])


# notifications: outbox rows hold facts; these are their words

def status_notification(facts: dict[str, Any], guide: Guide | None, rating_levels: tuple[Button, ...]) -> Reply:
    """What a follower is sent when their case moves; a returned case asks for a rating at once."""
    code, status, note = str(facts["code"]), str(facts["status"]), str(facts.get("note") or "").strip()
    meaning, nxt = STATUS_TEXTS[status]
    lines = [f"🔔 Hồ sơ {code}" + (f" ({guide.name})" if guide else ""), f"Trạng thái mới: {STATUS_NAMES[status]}.",
             meaning]
    if facts.get("office"):
        lines.insert(1, f"Nơi giải quyết: {facts['office']}")
    if note:
        lines.append(("Cần bổ sung: " if status == "needs_supplement" else "Ghi chú: ") + note)
    if nxt:
        lines.append(f"Tiếp theo: {nxt}")
    text = "\n".join(lines)
    if status == "returned":
        return Reply(f"{text}\n\n{rating_prompt_text(code)}", rating_levels)
    return Reply(text, (button("Xem chi tiết", actions.ShowCase(code)),))


def staff_answer(facts: dict[str, Any]) -> Reply:
    """An officer's answer to a citizen who asked for a person (/traloi)."""
    office = facts.get("office") or "bộ phận một cửa"
    return Reply(f"💬 Cán bộ {office} trả lời (mã {facts['ref']}):\n{facts['answer']}")


# staff commands in a chat

STAFF_ANSWER_SYNTAX = "Cú pháp: /traloi MÃ_CHUYỂN nội dung trả lời"
STAFF_IMPORT_NEEDS_FILE = "Gửi file CSV kèm chú thích /hoso nhap để nhập hồ sơ."


def staff_usage(spoken: dict[str, tuple[str, ...]]) -> str:
    statuses = "\n".join(f"• {STATUS_NAMES[key]}: {', '.join(words[:3])}" for key, words in spoken.items())
    return (
        "Lệnh cán bộ:\n"
        "/hoso them MÃ THỦ_TỤC SĐT HỌ TÊN\n"
        "/hoso capnhat MÃ TRẠNG_THÁI [ghi chú]  (ví dụ: /hoso capnhat MÃ chờ bổ sung Thiếu tờ khai)\n"
        "/hoso xem MÃ\n"
        "/hoso ds [quahan]\n"
        "/hoso nhap (gửi kèm file CSV: code,procedure,name,phone[,received,channel])\n"
        "/traloi MÃ_CHUYỂN nội dung (trả lời công dân đã nhờ gặp cán bộ)\n"
        f"Trạng thái (gõ có dấu hoặc không dấu):\n{statuses}"
    )


def unknown_status(typed: str, spoken: dict[str, tuple[str, ...]]) -> str:
    """A status staff typed that names none: the words that do, one per status."""
    return f"trạng thái {typed!r} không có; dùng một trong: " + ", ".join(words[0] for words in spoken.values())


def no_handoff(ref: str) -> str:
    return f"Không có yêu cầu gặp cán bộ mã {ref}."


def answer_sent(ref: str) -> str:
    return f"Đã gửi câu trả lời cho yêu cầu {ref}."


def staff_done(what: str, case: Case, today: dt.date, catalog: Catalog) -> str:
    return f"{what}\n{staff_case_view(case, today, catalog)}"


def imported(count: int) -> str:
    return f"Đã nhập {count} hồ sơ."


def staff_error(problem: str) -> str:
    return f"Lỗi: {problem}"


STAFF_LIST_LINES = 30
"""Cases `/hoso ds` shows: a chat screen holds no more."""


def staff_case_list(cases: list[Case], total: int, overdue: bool, today: dt.date, catalog: Catalog) -> str:
    """The latest cases (or the longest overdue), one line each, under how many there are in all."""
    if not cases:
        return "Không có hồ sơ nào."
    lines = [f"{c.code} · {procedure_name(catalog, c.procedure)} · {STATUS_NAMES[c.status]} · hẹn {c.due:%d/%m/%Y}"
             f" · {TIMELINESS_WORDS[c.timeliness(today)]}" for c in cases]
    shown = "" if total <= len(cases) else (
        f" ({len(cases)} quá hạn lâu nhất)" if overdue else f" ({len(cases)} hồ sơ mới nhất)")
    return f"{total} hồ sơ" + (" quá hạn" if overdue else "") + shown + ":\n" + "\n".join(lines)


# the command line, for officers and operators

def upcoming_changes(rows: list[tuple[Guide, Coming]], days: int) -> str:
    """For the content officer: what the guides change within the span, so answers are re-checked in time."""
    if not rows:
        return f"Không có nội dung nào thay đổi trong {days} ngày tới."
    lines = [f"{len(rows)} nội dung thay đổi trong {days} ngày tới, cần rà soát:"]
    for guide, c in rows:
        part = SECTION_LABELS.get(_answer_of(c.section) or "", "Tổng quan")
        if c.summary:
            what = f"thay cả mục: {c.summary}"
        else:
            what = ("hết áp dụng: " if c.ending else "bắt đầu áp dụng: ") + _item_text(c.item)
        lines.append(f"{c.on:%d/%m/%Y} · {guide.id} · {part} · {what}")
    return "\n".join(lines)


def guide_problems(count: int, directory: object) -> str:
    return f"{count} lỗi trong {directory} ({count} problem(s))"


def guides_ok(count: int, directory: object) -> str:
    return f"{count} hướng dẫn hợp lệ trong {directory} ({count} guides OK)"


def trained(examples: int, labels: int, aspects: int, where: object) -> str:
    return f"Đã huấn luyện: {examples} câu mẫu, {labels} nhãn, {aspects} khía cạnh; lưu tại {where}"


INTENT_WORDS = {
    "procedure": "hỏi thủ tục", "unknown": "ngoài phạm vi", "case_status": "tra cứu hồ sơ", "greeting": "chào hỏi",
    "help": "trợ giúp", "human": "gặp cán bộ", "feedback": "góp ý",
}
"""What the understanding took a question for, as staff read it in `motcua questions`."""


def unanswered(rows: list[UnansweredRow], catalog: Catalog) -> str:
    if not rows:
        return "Không có câu hỏi nào chưa trả lời được trong khoảng thời gian này."
    lines = []
    for row in rows:
        guess = (f" (gần nhất: {procedure_name(catalog, row.procedure)}, độ tin cậy "
                 f"{row.confidence:.2f}".replace(".", ",") + ")") if row.procedure else ""
        lines.append(f"{row.n:>4} × [{INTENT_WORDS.get(row.intent, row.intent)}] {row.text}{guess}")
    return "\n".join(lines)


def case_table(cases: list[Case], total: int, overdue: bool, today: dt.date, catalog: Catalog) -> str:
    """One case a line, for a terminal: the code, the status and timeliness first, then the
    procedure's name, which may be long, last; the last line says what a page leaves out."""
    lines = [f"{c.code}  {STATUS_NAMES[c.status]:<31} hẹn {c.due:%d/%m/%Y}  {TIMELINESS_WORDS[c.timeliness(today)]:<20}"
             f"  {procedure_name(catalog, c.procedure)}" for c in cases]
    if total <= len(cases):
        return "\n".join([*lines, f"{len(cases)} hồ sơ"])
    which = "quá hạn lâu nhất" if overdue else "mới nhất"
    return "\n".join([*lines, f"{len(cases)}/{total} hồ sơ: {len(cases)} hồ sơ {which}; xem thêm với --limit "
                                f"(showing {len(cases)} of {total})"])


PERIOD_BACKWARDS = "Ngày --to trước ngày --from (--to is before --from)"


def demo_not_empty(database: object, chat_demo_only: bool) -> str:
    """Why the demo month was not loaded, and the command that does what the newcomer wanted."""
    if chat_demo_only:
        return (f"{database} đã có 3 hồ sơ mẫu của motcua chat. Nạp thêm một tháng dữ liệu mẫu vào đó: "
                f"motcua demo seed --force --db {database}; hoặc dùng một tệp riêng: "
                "motcua demo seed --db data/demo.sqlite3")
    return (f"{database} đã có hồ sơ thật; dữ liệu mẫu không bao giờ nạp lẫn vào đó. Dùng một tệp riêng: "
            "motcua demo seed --db data/demo.sqlite3 (rồi thêm --db data/demo.sqlite3 vào lệnh report)")


def office_choice(given: str | None, offices: tuple[Office, ...]) -> str:
    """The CLI of a deployment of several communes: which office's cases, named by code or name."""
    listed = "\n".join(f"  {o.code}  {o.name}" for o in offices)
    if given is None:
        return f"Cần cho biết cơ quan: --office MÃ (cán bộ chỉ làm việc với hồ sơ của cơ quan mình):\n{listed}"
    return f"Không có cơ quan {given!r}; dùng mã hoặc tên của một trong:\n{listed}"


def unknown_procedure(procedure: str) -> str:
    return f"Không có thủ tục {procedure!r} trong danh mục (mã thủ tục là tên tệp trong thư mục procedures)."


def written(path: object) -> str:
    return f"Đã ghi {path}"


def demo_loaded(count: int, start: dt.date, end: dt.date) -> str:
    return (f"Đã nạp dữ liệu mẫu: {count} hồ sơ trong 30 ngày qua, kèm đánh giá. Thử: motcua report "
            f"--from {start:%d/%m/%Y} --to {end:%d/%m/%Y} --format xlsx")


def demo_cases_loaded(count: int, years: float, month_start: dt.date, end: dt.date) -> str:
    return (f"Đã nạp dữ liệu mẫu: {count:,} hồ sơ trong {years:g} năm qua".replace(",", ".")
            + f", kèm quá trình xử lý và đánh giá. Thử: motcua report --from {month_start:%d/%m/%Y} "
            f"--to {end:%d/%m/%Y}; motcua cases list --overdue")


def backed_up(database: object, target: object) -> str:
    return f"Đã sao lưu {database} vào {target}"


def db_copied(counts: dict[str, int]) -> str:
    rows = "\n".join(f"  {table}: {n}" for table, n in counts.items())
    return f"Đã chép {sum(counts.values())} dòng sang cơ sở dữ liệu mới:\n{rows}"


def purged(counts: dict[str, int]) -> str:
    return "\n".join(f"{what}: {count}" for what, count in counts.items())


# notifications the platforms refused, and channel problems (motcua notifications --failed)

TEMPLATE_STAFF_ANSWER = "Cán bộ đã trả lời câu hỏi của bạn"
"""The `status` of a template notification that carries an officer's answer."""
TEMPLATE_NEWS = "Có thông tin mới về hồ sơ của bạn"

ZALO_OA_REFRESH_FAILED = (
    "Zalo không cấp lại token cho OA ({error}). Bot không gửi được tin Zalo OA cho đến khi quản trị viên OA "
    "cấp quyền lại: mở developers.zalo.me, chọn ứng dụng, lấy cặp token mới (OAuth v4), đặt vào "
    "ZALO_OA_ACCESS_TOKEN và ZALO_OA_REFRESH_TOKEN rồi khởi động lại bot."
)


def failed_notifications(rows: list[OutboxRow], alerts: list[tuple[str, str, dt.datetime]]) -> str:
    """Staff's view of what did not reach citizens: each row set aside and why, then channel
    problems with what to do. Only the last digits of a chat id are shown."""
    lines = [f"⚠️ {channel} (từ {since:%d/%m/%Y %H:%M}): {problem}" for channel, problem, since in alerts]
    for row in rows:
        facts = json.loads(row.payload)
        about = facts.get("code") or facts.get("ref") or row.kind
        when = row.given_up_at or row.created_at
        lines.append(f"#{row.id}  {when:%d/%m/%Y %H:%M}  {row.channel} …{row.user[-4:]}  {about}  "
                     f"sau {row.attempts} lần: {row.last_error}")
    lines.append(f"{len(rows)} thông báo chưa gửi được; mỗi thông báo sẽ được gửi lại khi người dân nhắn tin "
                 "cho bot." if rows else "Không có thông báo nào bị gác lại.")
    return "\n".join(lines)
