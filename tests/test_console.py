"""`motcua chat` driven through a pipe, as a newcomer would first meet the bot."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_console_chat_through_a_pipe(tmp_path):
    lines = "lam giay khai sinh cho con can gi\n1\nchứng thực\n2\nthoát\n"
    out = subprocess.run(
        [sys.executable, "-m", "bot", "chat"], input=lines, capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "MOTCUA_DB": str(tmp_path / "chat.sqlite3")}, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("(Dữ liệu mẫu)") and "Xin chào!" in text
    assert "Đăng ký khai sinh · 📄 Giấy tờ cần chuẩn bị" in text
    assert "Đăng ký khai sinh · 💰 Lệ phí" in text          # "1" chose the first button
    assert "Có phải bạn hỏi về" in text
    assert "Chứng thực chữ ký" in text.split("Có phải bạn hỏi về")[1]
    assert "(Trả lời bằng số để chọn)" in text
    assert (tmp_path / "chat.sqlite3").exists()


def test_console_newcomer_can_look_up_a_demo_case(tmp_path):
    env = {**os.environ, "MOTCUA_DB": str(tmp_path / "chat.sqlite3")}
    first = subprocess.run([sys.executable, "-m", "bot", "chat"], input="", capture_output=True, text=True,
                           cwd=ROOT, env=env, timeout=60).stdout
    code = first.splitlines()[1].strip()
    last4 = first.split("4 số cuối điện thoại là ")[1][:4]
    out = subprocess.run([sys.executable, "-m", "bot", "chat"], input=f"tra cứu hồ sơ {code}\n{last4}\n",
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=60).stdout
    assert f"Hồ sơ {code}" in out and "Trạng thái:" in out and "Hẹn trả" in out
