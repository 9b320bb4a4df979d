"""`motcua chat` driven through a pipe, as a newcomer would first meet the bot."""

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOODBYE = "Tạm biệt! Gõ motcua chat để trò chuyện tiếp khi cần."


def chat(db: Path, lines: str) -> str:
    out = subprocess.run([sys.executable, "-m", "bot", "chat"], input=lines, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "MOTCUA_DB": str(db)}, timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return out.stdout


def demo_codes(text: str) -> tuple[list[str], str]:
    """The demo cases and the digits to type, as the menu lists them."""
    listed = text.split("4 số cuối điện thoại là ")[1]
    digits, rest = listed[:4], listed.split("\n")[1:4]
    return [line.strip() for line in rest], digits


def test_console_chat_through_a_pipe(tmp_path):
    lines = "lam giay khai sinh cho con can gi\n1\nchứng thực\n2\nok\n👍\nthoát\n"
    text = chat(tmp_path / "chat.sqlite3", lines)
    assert text.startswith("Xin chào!") and "(Dữ liệu mẫu)" in text
    assert "Đăng ký khai sinh · 📄 Giấy tờ cần chuẩn bị" in text
    assert "Đăng ký khai sinh · 💰 Lệ phí" in text          # "1" chose the first button
    assert "Có phải bạn hỏi về" in text
    assert "Chứng thực chữ ký" in text.split("Có phải bạn hỏi về")[1]
    assert "(Trả lời bằng số để chọn)" in text
    assert text.count("Xin chào!") == 1                      # "ok" and 👍 are acknowledged, not welcomed
    assert text.count("Bạn cần hỏi gì thêm cứ nhắn cho mình nhé.") == 2
    assert text.rstrip().endswith(GOODBYE)
    assert (tmp_path / "chat.sqlite3").exists()


def test_console_newcomer_can_look_up_a_demo_case_on_any_start(tmp_path):
    db = tmp_path / "chat.sqlite3"
    first = chat(db, "")
    codes, digits = demo_codes(first)
    second = chat(db, "menu\n")                                 # the list again, on a later start and in menu
    assert demo_codes(second) == (codes, digits) and second.count("(Dữ liệu mẫu)") == 2
    out = chat(db, f"tra cứu hồ sơ {codes[0]}\n{digits}\n")
    assert f"Hồ sơ {codes[0]}" in out and "Trạng thái:" in out and "Hẹn trả" in out


def test_ctrl_c_leaves_with_a_goodbye_and_no_traceback(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "bot", "chat", "--db", str(tmp_path / "c.sqlite3")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT)
    assert process.stdout is not None
    shown = ""
    while "(Trả lời bằng số để chọn)" not in shown:           # the menu is on the screen: the chat waits
        shown += process.stdout.readline()
    process.send_signal(signal.SIGINT)
    rest, errors = process.communicate(timeout=60)
    assert process.returncode == 0 and errors == ""
    assert rest.strip() == GOODBYE


def test_a_conversation_continues_after_a_restart(tmp_path):
    db = tmp_path / "chat.sqlite3"
    chat(db, "sang tên sổ đỏ cần giấy tờ gì\n")
    again = chat(db, "thế lệ phí bao nhiêu\n")
    assert "Tiếp tục cuộc trò chuyện trước" in again and "Xin chào!" not in again
    assert "Đăng ký biến động đất đai" in again and "💰 Lệ phí" in again


def test_a_followed_case_that_changed_meanwhile_is_reported_on_the_next_start(tmp_path):
    db = tmp_path / "chat.sqlite3"
    codes, digits = demo_codes(chat(db, ""))
    followed = chat(db, f"tra cứu hồ sơ {codes[0]}\n{digits}\n1\n")
    assert f"Đã bật theo dõi hồ sơ {codes[0]}" in followed
    update = subprocess.run([sys.executable, "-m", "bot", "cases", "update", codes[0], "có kết quả", "--db", str(db)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert update.returncode == 0, update.stderr
    later = chat(db, "")
    assert f"🔔 Hồ sơ {codes[0]}" in later and "Trạng thái mới: Đã có kết quả, chờ trả." in later
    assert f"🔔 Hồ sơ {codes[0]}" not in chat(db, "")           # delivered once
