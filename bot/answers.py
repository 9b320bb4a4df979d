"""Replies composed from guides and office facts: short, concrete, Vietnamese first.

Everything a citizen reads about a procedure comes from its guide, so correcting a guide
corrects every answer. Replies are plain text (no markup), which every platform shows as typed
and which no citizen input can break.
"""

from __future__ import annotations

from bot.catalog import ASPECTS, Catalog, Guide
from bot.messages import Button, Reply
from bot.config import Office

SECTION_LABELS = {
    "documents": "Giấy tờ", "fees": "Lệ phí", "processing_time": "Thời gian", "where": "Nơi nộp",
    "online": "Nộp trực tuyến", "forms": "Mẫu đơn", "eligibility": "Điều kiện", "steps": "Các bước",
}
SECTION_TITLES = {
    "documents": "📄 Giấy tờ cần chuẩn bị", "fees": "💰 Lệ phí", "processing_time": "⏱ Thời gian giải quyết",
    "where": "📍 Nơi nộp hồ sơ", "online": "🌐 Nộp trực tuyến", "forms": "📝 Mẫu đơn, tờ khai",
    "eligibility": "✅ Điều kiện và thời hạn", "steps": "🔢 Các bước thực hiện",
}
MENU_BUTTON = Button("☰ Menu", "menu")


def _money(amount: int | None) -> str:
    if amount is None:
        return "theo mức của tỉnh"
    return "miễn phí" if amount == 0 else f"{amount:,}".replace(",", ".") + " đồng"


def section_text(guide: Guide, aspect: str) -> str:
    """The body of one section of a guide."""
    lines: list[str] = []
    if aspect == "documents":
        for d in guide.documents:
            detail = ", ".join(x for x in (d.original_or_copy, f"{d.count} bản" if d.count > 1 else "") if x)
            line = f"• {d.name}" + (f" ({detail})" if detail else "")
            lines.append(line + (f": {d.note}" if d.note else ""))
        if guide.documents_note:
            lines.append(guide.documents_note)
    elif aspect == "fees":
        lines.append(guide.fees.text)
        lines += [f"• {i.name}: {_money(i.amount_vnd)}" + (f" ({i.note})" if i.note else "") for i in guide.fees.items]
        if guide.fees.exemptions:
            lines += ["Miễn, giảm:"] + [f"• {e}" for e in guide.fees.exemptions]
    elif aspect == "processing_time":
        lines.append(guide.processing_time.text)
    elif aspect == "where":
        lines += [guide.where, f"Cơ quan giải quyết: {guide.authority}"]
    elif aspect == "online":
        lines.append(guide.online.text)
        if guide.online.available and guide.online.channels:
            lines.append("Kênh: " + ", ".join(guide.online.channels))
    elif aspect == "forms":
        if guide.forms:
            lines += [f"• {f.code}: {f.name}" + (f" ({f.note})" if f.note else "") for f in guide.forms]
        else:
            lines.append("Thủ tục này không có mẫu riêng phải tự in; cán bộ một cửa sẽ hướng dẫn khi bạn nộp.")
    elif aspect == "eligibility":
        if guide.citizen_deadline:
            lines.append(f"⏰ {guide.citizen_deadline.text}")
        lines += [f"• {e}" for e in guide.eligibility]
    elif aspect == "steps":
        lines += [f"{i}. {s}" for i, s in enumerate(guide.steps, 1)]
    return "\n".join(lines)


def _footer(guide: Guide) -> str:
    basis = "; ".join(guide.legal_basis[:2]) + ("; …" if len(guide.legal_basis) > 2 else "")
    return f"Căn cứ: {basis.rstrip('.')} · Cập nhật {guide.reviewed:%d/%m/%Y}"


def section_buttons(guide: Guide, current: str | None) -> tuple[Button, ...]:
    return tuple(
        Button(SECTION_LABELS[a], f"proc:{guide.id}:{a}") for a in ASPECTS if a != current
    ) + (MENU_BUTTON,)


def procedure_answer(guide: Guide, aspect: str | None, *, english: bool = False) -> Reply:
    """The part the citizen asked for first, then buttons for the other parts."""
    parts: list[str] = []
    if english:
        parts.append(f"Here is what you need to know about {guide.name_en} (in Vietnamese, as the office uses it):")
    if aspect:
        parts.append(f"{guide.name} · {SECTION_TITLES[aspect]}\n{section_text(guide, aspect)}")
    else:
        parts.append(
            f"{guide.name}\n"
            f"Kết quả: {guide.result}\n"
            f"⏱ {guide.processing_time.text}\n"
            f"💰 {guide.fees.text}\n"
            f"📍 {guide.where}"
        )
        if guide.caveats:
            parts.append(f"⚠️ Lưu ý: {guide.caveats[0]}")
        parts.append("Bạn muốn xem phần nào?")
    parts.append(_footer(guide))
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
    return tuple(Button(g, f"grp:{i}") for i, g in enumerate(catalog.groups())) + (
        Button("🔎 Tra cứu hồ sơ", "track"), Button("⭐ Đánh giá", "rate"))


def group_menu(catalog: Catalog, index: int) -> Reply | None:
    groups = catalog.groups()
    names = list(groups)
    if not 0 <= index < len(names):
        return None
    guides = groups[names[index]]
    return Reply(
        f"Lĩnh vực {names[index]}: bạn chọn thủ tục.",
        tuple(Button(g.name, f"proc:{g.id}") for g in guides) + (MENU_BUTTON,),
    )


def clarification(catalog: Catalog, ids: list[str], aspect: str | None, *, english: bool = False) -> Reply:
    lead = "I am not sure which procedure you mean. " if english else ""
    buttons = tuple(
        Button(catalog[gid].name, f"proc:{gid}" + (f":{aspect}" if aspect else "")) for gid in ids
    )
    return Reply(
        f"{lead}Có phải bạn hỏi về một trong các thủ tục sau? Bạn chọn giúp mình, hoặc gõ lại câu hỏi rõ hơn.",
        buttons + (MENU_BUTTON,),
    )


def out_of_scope(office: Office, *, english: bool = False) -> Reply:
    lead = "Sorry, I cannot help with that. " if english else ""
    return Reply(
        f"{lead}Xin lỗi, nội dung này mình chưa hỗ trợ nên không dám hướng dẫn sai. "
        f"Bạn vui lòng gọi đường dây nóng {office.hotline} ({office.hours}) "
        f"hoặc đến {office.name}, {office.address} để được giúp.",
        (MENU_BUTTON,),
    )


def contact(office: Office, *, forwarded_ref: str | None = None, english: bool = False) -> Reply:
    lead = "Here is how to reach a staff member. " if english else ""
    text = (
        f"{lead}Bạn có thể liên hệ cán bộ {office.name}:\n"
        f"☎️ {office.hotline}\n🕘 {office.hours}\n📍 {office.address}"
    )
    if forwarded_ref:
        text += f"\n\nMình đã chuyển câu hỏi của bạn cho cán bộ (mã {forwarded_ref}); cán bộ sẽ trả lời trong giờ làm việc."
    return Reply(text, (MENU_BUTTON,))


def goodbye(*, english: bool = False) -> Reply:
    lead = "You're welcome! " if english else ""
    return Reply(f"{lead}Cảm ơn bạn! Khi cần, bạn cứ nhắn cho mình nhé. 😊", (MENU_BUTTON,))
