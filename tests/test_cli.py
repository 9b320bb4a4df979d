"""The motcua command run as a real process, the way officers and outside checks run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import CODE_A, CODE_B, write_offices_config

ROOT = Path(__file__).resolve().parent.parent


def motcua(*args: str, stdin: str = "", env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout,
    )


def test_match_prints_one_json_object_per_line_with_the_stable_keys():
    out = motcua("match", stdin="lam giay khai sinh cho con can gi\nthời tiết mai thế nào\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [set(r) for r in rows] == [{"text", "intent", "procedure", "aspect", "confidence", "alternatives"}] * 2
    assert (rows[0]["intent"], rows[0]["procedure"], rows[0]["aspect"]) == ("procedure", "dang-ky-khai-sinh", "documents")
    assert (rows[1]["intent"], rows[1]["procedure"]) == ("unknown", None)


def test_match_reads_a_file(tmp_path):
    messages = tmp_path / "m.txt"
    messages.write_text("sang tên sổ đỏ\n", encoding="utf-8")
    out = motcua("match", "--file", str(messages))
    assert json.loads(out.stdout)["procedure"] == "dang-ky-bien-dong-dat-dai"


def test_eval_reports_accuracy_and_misses(tmp_path):
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(
        json.dumps({"text": "khai sinh cho con mới sinh", "intent": "procedure",
                    "procedure": "dang-ky-khai-sinh", "aspect": None}, ensure_ascii=False) + "\n"
        + json.dumps({"text": "sổ đỏ lần đầu", "intent": "procedure",
                      "procedure": "dang-ky-khai-tu", "aspect": None}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    out = motcua("eval", str(labelled))
    assert out.returncode == 0, out.stderr
    assert "procedure top-1: 1/2 = 50.0 %" in out.stdout
    assert "procedure cap-gcn-quyen-su-dung-dat-lan-dau (want dang-ky-khai-tu) | sổ đỏ lần đầu" in out.stdout


def test_eval_of_a_broken_or_missing_file_says_which_line_without_a_traceback(tmp_path):
    labelled = tmp_path / "set.jsonl"
    labelled.write_text('{"text": "khai sinh", "intent": "procedure"}\n{"text": 42, "intent": null}\n',
                        encoding="utf-8")
    broken = motcua("eval", str(labelled))
    missing = motcua("eval", str(tmp_path / "none.jsonl"))
    assert broken.returncode == 2 and broken.stderr.startswith(f"{labelled}:2: not a labelled message")
    assert missing.returncode == 2 and "none.jsonl" in missing.stderr
    assert "Traceback" not in broken.stderr + missing.stderr


def test_validate_passes_on_shipped_guides():
    out = motcua("validate")
    assert out.returncode == 0 and "39 guides OK" in out.stdout


def test_validate_lists_every_problem_and_fails(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\nname: [x\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("id: b\n", encoding="utf-8")
    out = motcua("validate", str(tmp_path))
    assert out.returncode == 1
    assert "a.yaml: line" in out.stdout and "b.yaml: name: missing required field" in out.stdout


def test_broken_config_is_named(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("office: {name: X}\n", encoding="utf-8")
    out = motcua("--config", str(bad), "validate")
    assert out.returncode == 2 and "office.address" in out.stderr


def test_questions_lists_unanswered_most_frequent_first(tmp_path):
    env = {"MOTCUA_DB": str(tmp_path / "q.sqlite3")}
    motcua("chat", stdin="giá vàng hôm nay\nchứng thực\ngiá vàng hôm nay\nđăng ký khai sinh cần giấy tờ gì\n", env=env)
    out = motcua("questions", "--unanswered", "--since", "7d", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].strip().startswith("2 × [ngoài phạm vi] giá vàng hôm nay")
    assert any("chứng thực" in line for line in lines) and not any("khai sinh" in line for line in lines)
    assert motcua("questions", "--unanswered", "--since", "soon", env=env).returncode == 2


def test_run_telegram_without_token_explains_and_exits_2():
    out = motcua("run", "telegram", env={"TELEGRAM_BOT_TOKEN": ""})
    assert out.returncode == 2 and "TELEGRAM_BOT_TOKEN" in out.stderr


def test_cases_command_line_contract(tmp_path):
    db = ["--db", str(tmp_path / "c.sqlite3")]
    code = "000.00.27.H15-251120-0012"
    add = motcua("cases", "add", code, "--procedure", "dang-ky-ket-hon", "--name", "Phạm Thị Dung",
                 "--phone", "0987654321", "--received", "2026-11-20T09:30", "--staff", "cb.lan", *db)
    assert add.returncode == 0, add.stderr
    assert "0987654321" not in add.stdout
    upd = motcua("cases", "update", "000 00 27 h15 251120 0012", "processing", "--note", "thẩm định",
                 "--staff", "cb.minh", *db)
    assert upd.returncode == 0, upd.stderr
    shown = json.loads(motcua("cases", "show", code, "--json", *db).stdout)
    assert {"code", "procedure", "status", "received", "due", "on_time", "history"} <= set(shown)
    assert shown["status"] == "processing" and shown["received"] == "2026-11-20T09:30:00"
    assert [h["staff"] for h in shown["history"]] == ["cb.lan", "cb.minh"]
    listed = json.loads(motcua("cases", "list", "--overdue", "--json", *db).stdout)
    assert [c["code"] for c in listed] == [code] and listed[0]["on_time"] is False
    bad = motcua("cases", "update", code, "flying", *db)
    assert bad.returncode != 0 and "không có; dùng một trong: đã nộp, đã tiếp nhận" in bad.stderr
    said = motcua("cases", "update", code, "chờ", "bổ", "sung", "--note", "Thiếu tờ khai", *db)
    assert said.returncode == 0, said.stderr
    assert "Trạng thái: Cần bổ sung hồ sơ · hẹn trả" in said.stdout and "Đăng ký kết hôn" in said.stdout
    assert "20/11/2026 09:30 Đã tiếp nhận (cb.lan)" in said.stdout and "needs_supplement" not in said.stdout
    table = motcua("cases", "list", *db).stdout
    assert "Cần bổ sung hồ sơ" in table and "đang trong hạn" in table and "Đăng ký kết hôn" in table
    missing = motcua("cases", "show", "000.00.27.H15-251120-9999", *db)
    assert missing.returncode != 0 and "không có hồ sơ" in missing.stderr


def test_cases_import_reports_bad_rows_and_exits_non_zero(tmp_path):
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("code,procedure,name,phone\n000.00.27.H15-251120-0001,dang-ky-khai-sinh,A,0912345678\n"
                        "x,dang-ky-khai-sinh,B,0912345678\n", encoding="utf-8")
    out = motcua("cases", "import", str(csv_file), "--db", str(tmp_path / "c.sqlite3"))
    assert out.returncode != 0 and "dòng 3" in out.stderr
    listed = motcua("cases", "list", "--json", "--db", str(tmp_path / "c.sqlite3"))
    assert json.loads(listed.stdout) == []


def test_run_zalo_channels_without_secrets_explain_and_exit_2():
    out = motcua("run", "zalo-oa", env={"ZALO_APP_ID": "", "ZALO_APP_SECRET": "", "ZALO_OA_SECRET_KEY": ""})
    assert out.returncode == 2 and "ZALO_APP_ID" in out.stderr and "ZALO_OA_SECRET_KEY" in out.stderr
    out = motcua("run", "zalo-bot", env={"ZALO_BOT_TOKEN": ""})
    assert out.returncode == 2 and "ZALO_BOT_TOKEN" in out.stderr
    out = motcua("run", "viber")
    assert out.returncode == 2 and "unknown channel" in out.stderr


def test_match_conversations_prints_one_line_per_conversation_with_every_turn(tmp_path):
    """The contract of the held-out conversation checks: one JSON object per conversation."""
    turns = [{"text": t} for t in ("làm giấy khai sinh cho con cần gì", "ok", "mất bao lâu")]
    path = tmp_path / "conv.jsonl"
    path.write_text(json.dumps({"id": "a", "turns": turns}, ensure_ascii=False) + "\n" + json.dumps(
        {"id": "b", "turns": turns[:1]}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = motcua("match", "--conversations", str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [len(line["turns"]) for line in lines] == [3, 1]
    first = lines[0]["turns"][0]
    assert set(first) == {"intent", "procedure", "aspect", "confidence", "alternatives"}
    assert (first["intent"], first["procedure"], first["aspect"]) == ("procedure", "dang-ky-khai-sinh", "documents")


def test_eval_scores_a_conversation_file(tmp_path):
    path = tmp_path / "conv.jsonl"
    path.write_text(json.dumps({"id": "a", "turns": [
        {"text": "làm giấy khai sinh cho con cần gì", "intent": "procedure", "procedure": "dang-ky-khai-sinh",
         "aspect": "documents"}]}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = motcua("eval", str(path))
    assert result.returncode == 0, result.stderr
    assert "procedure_top1             1/1 = 100.0 %" in result.stdout
    assert "conversation_success       1/1 = 100.0 %" in result.stdout


def test_commands_on_a_file_that_is_not_a_database_name_it_and_exit_2(tmp_path):
    """R9: they hung after a traceback (and `run` ignored SIGTERM); the timeout guards against that."""
    db = tmp_path / "motcua.sqlite3"
    db.write_text("code,status\n000,received\n", encoding="utf-8")
    env = {"MOTCUA_DB": str(db), "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"}
    for args in (["cases", "list"], ["backup", str(tmp_path / "b.sqlite3")], ["run", "telegram"]):
        out = motcua(*args, env=env, timeout=60)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.startswith(f"Không dùng được cơ sở dữ liệu {db}: tệp không phải cơ sở dữ liệu SQLite")
        assert "Traceback" not in out.stderr
    assert not (tmp_path / "b.sqlite3").exists()


def test_report_refuses_to_write_over_the_database(tmp_path):
    db = tmp_path / "data" / "motcua.sqlite3"
    assert motcua("cases", "list", "--db", str(db)).returncode == 0
    spellings = [str(db), str(tmp_path / "data" / ".." / "data" / "motcua.sqlite3"), f"{db}-wal", f"{db}-shm"]
    for output in spellings:
        out = motcua("report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv", "--output", output,
                     "--db", str(db))
        assert out.returncode == 2 and out.stderr.startswith("Không ghi báo cáo đè lên cơ sở dữ liệu"), out.stderr
    assert db.read_bytes().startswith(b"SQLite format 3")
    listed = motcua("cases", "list", "--json", "--db", str(db))
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    report = tmp_path / "baocao.csv"
    out = motcua("report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv", "--output", str(report),
                 "--db", str(db))
    assert out.returncode == 0 and report.exists(), out.stderr


def test_validate_lists_the_coming_changes_for_the_content_officer():
    out = motcua("validate", "--upcoming", "90d")
    assert out.returncode == 0, out.stderr
    assert "thay đổi trong 90 ngày tới" in out.stdout
    assert motcua("validate", "--upcoming", "soon").returncode == 2


def test_help_speaks_vietnamese_to_officers_first():
    def help_of(*command: str) -> str:
        out = motcua(*command, "--help")
        assert out.returncode == 0
        return " ".join(out.stdout.split())           # as read, whatever the terminal's width

    assert "tiếp nhận, cập nhật, xem hồ sơ (cán bộ)" in help_of()
    update = help_of("cases", "update")
    assert "trạng thái mới, có dấu hoặc không dấu" in update and "chờ nộp phí (awaiting_fees)" in update
    show = help_of("cases", "show")
    assert "--staff" not in show and "mã hồ sơ" in show               # a read-only command records no one
    report = help_of("report")
    assert "mặc định: đầu tháng này" in report and "baocao/baocao-" in report
    assert "--force" in help_of("demo", "seed")


def test_questions_needs_no_flag(tmp_path):
    out = motcua("questions", "--db", str(tmp_path / "q.sqlite3"))
    assert out.returncode == 0 and "Không có câu hỏi nào" in out.stdout


def test_with_several_offices_an_officer_names_theirs_and_sees_only_its_cases(tmp_path):
    env = {"MOTCUA_CONFIG": str(write_offices_config(tmp_path, tmp_path / "db.sqlite3"))}
    case = ["--procedure", "dang-ky-ket-hon", "--name", "Phạm Thị Dung", "--phone", "0987654321"]
    unnamed = motcua("cases", "add", CODE_A, *case, env=env)
    assert unnamed.returncode != 0 and "--office" in unnamed.stderr and "03256  Xã Mường Ảng" in unnamed.stderr
    assert motcua("cases", "add", CODE_A, *case, "--office", "03127", env=env).returncode == 0
    assert motcua("cases", "add", CODE_B, *case, "--office", "xa muong ang", env=env).returncode == 0
    listed = json.loads(motcua("cases", "list", "--json", "--office", "03127", env=env).stdout)
    assert [c["code"] for c in listed] == [CODE_A]
    other = motcua("cases", "show", CODE_B, "--office", "03127", env=env)
    assert other.returncode != 0 and "không có hồ sơ" in other.stderr and "0987" not in other.stdout + other.stderr
    changed = motcua("cases", "update", CODE_B, "processing", "--office", "03127", env=env)
    assert changed.returncode != 0
    report = motcua("report", "--office", "Xã Mường Ảng", env=env)
    assert report.returncode == 0 and "Xã Mường Ảng" in report.stdout
    unknown = motcua("report", "--office", "Xã Không Có", env=env)
    assert unknown.returncode != 0 and "Không có cơ quan 'Xã Không Có'" in unknown.stderr


def test_demo_seed_cases_then_a_list_is_one_page_that_says_what_it_left_out(tmp_path):
    db = ["--db", str(tmp_path / "big.sqlite3")]
    seeded = motcua("demo", "seed", "--cases", "1_500", "--years", "1", *db)
    assert seeded.returncode == 0, seeded.stderr
    assert "1.500 hồ sơ trong 1 năm qua" in seeded.stdout
    lines = motcua("cases", "list", "--limit", "5", *db).stdout.splitlines()
    assert len(lines) == 6 and lines[-1].startswith("5/1500 hồ sơ: 5 hồ sơ mới nhất")
    overdue = motcua("cases", "list", "--overdue", "--limit", "3", "--json", *db).stdout
    dues = [c["due"] for c in json.loads(overdue)]
    assert len(dues) == 3 and dues == sorted(dues) and all(c["timeliness"] == "overdue" for c in json.loads(overdue))
    assert motcua("demo", "seed", "--cases", "10", *db).returncode == 1          # never beside existing cases
    assert motcua("cases", "list", "--limit", "0", *db).returncode == 2


def test_staff_commands_load_no_understanding_model(tmp_path):
    """An officer's `cases list` or `report` waits for neither numpy nor the matcher: they are
    the chat's, and cost a noticeable part of every command's start."""
    probe = ("import runpy, sys\n"
             "sys.argv = ['motcua', 'cases', 'list', '--db', sys.argv[1]]\n"
             "try:\n    runpy.run_module('bot', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('numpy', 'bot.matching', 'bot.dialog', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "db.sqlite3")], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr
