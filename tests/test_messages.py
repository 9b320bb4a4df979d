"""The core's message types: values that cannot change under a channel, with the defaults every adapter relies on."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from bot.messages import Attachment, Button, DeferDelivery, Incoming, Reply

ROOT = Path(__file__).resolve().parent.parent


def test_a_plain_reply_has_no_buttons_and_no_attachment():
    reply = Reply("Xin chào")
    assert reply.buttons == () and reply.attachment is None


def test_an_incoming_message_carries_only_what_the_platform_gave():
    message = Incoming("telegram", "5001")
    assert (message.text, message.action, message.attachment) == (None, None, None)


def test_an_attachment_is_a_png_unless_told_otherwise():
    assert Attachment("chart.png", b"\x89PNG").mime == "image/png"
    assert Attachment("cases.csv", b"code\n", "text/csv").mime == "text/csv"


@pytest.mark.parametrize("value, field", [
    (Button("Lệ phí", "sec:x:fee"), "action"),
    (Attachment("a.png", b""), "data"),
    (Reply("x"), "text"),
    (Reply("x"), "buttons"),
    (Incoming("t", "u", text="hi"), "user"),
])
def test_every_message_type_is_frozen(value: object, field: str):
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, "changed")


def test_replies_compare_and_hash_by_value():
    one = Reply("Chọn thủ tục", (Button("Khai sinh", "proc:dang-ky-khai-sinh"),))
    same = Reply("Chọn thủ tục", (Button("Khai sinh", "proc:dang-ky-khai-sinh"),))
    assert one == same and len({one, same}) == 1
    assert one != Reply("Chọn thủ tục")


def test_defer_delivery_is_an_exception_a_channel_can_raise():
    with pytest.raises(DeferDelivery, match="48"):
        raise DeferDelivery("reply window closed 48 hours ago")


def test_the_core_vocabulary_imports_no_channel():
    code = "import sys, bot.messages; print(sorted(m for m in sys.modules if m.startswith('bot.channels')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
