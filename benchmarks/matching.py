"""Understanding speed and memory: per-message latency, catalog load time, peak memory.

Run: python benchmarks/matching.py [--guides 2000] [--runs 5]
Prints figures for the shipped catalog (on chat messages, the development set, and on long
letters, the real questions) and, with --guides N, for a generated catalog of N guides
(a province's full procedure list is about 2,000; its first run trains a model, which takes
minutes): catalog load (YAML and validation), model load and index build, latency per message
(median and p99), and the peak memory of a process that only loads and matches.
Times are medians over runs; compare them as ratios. Pin to one core: `taskset -c 0`. The CPU
p99 (the thread's own processor time per message) is the figure to quote on a shared machine:
other processes stretch wall-clock latency, not the work a message costs.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.catalog import load_catalog  # noqa: E402
from bot.classifier import load_model  # noqa: E402
from bot.matching import Matcher  # noqa: E402

SYLLABLES = "an binh cuong dung giang hoa khanh lam minh nga phuc quang son tam uyen vinh xuan yen".split()


def generate(target: Path, count: int) -> None:
    """Copies of the shipped guides with made-up distinguishing words, `count` in all."""
    shipped = sorted((ROOT / "procedures").glob("*.yaml"))
    rng = random.Random(7)
    for i in range(count):
        data = yaml.safe_load(shipped[i % len(shipped)].read_text(encoding="utf-8"))
        tag = " ".join(rng.sample(SYLLABLES, 2))
        data["id"] = f"{data['id']}-{i}"
        data["name"] = f"{data['name']} {tag}"
        data["aliases"] = [f"{a} {tag}" for a in data["aliases"]]
        data["questions"] = [f"{q} {tag}" for q in data["questions"]]
        (target / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


SETS = {
    # chat-style messages, short and long, with and without marks
    "chat": ROOT.parent / "shared" / "eval" / "dev.jsonl",
    # real citizens' letters from public Q&A pages: long, the story before the question
    "letters": ROOT / "benchmarks" / "real-questions.jsonl",
}


def messages(kind: str) -> list[str]:
    path = SETS[kind]
    if path.exists():
        return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return ["lam giay khai sinh cho con can gi", "sang ten so do mat bao lau", "khai bao tam vang o dau"] * 50


def measure(directory: Path, runs: int, kind: str) -> dict[str, float]:
    loads, builds, latencies, cpu = [], [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        catalog = load_catalog(directory)
        loaded = time.perf_counter()
        matcher = Matcher(catalog, load_model(catalog))   # from the cache after the first run
        loads.append(loaded - start)
        builds.append(time.perf_counter() - loaded)
        for text in messages(kind):
            t0, c0 = time.perf_counter(), time.thread_time()
            matcher.understand(text)
            latencies.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        del catalog, matcher
    latencies.sort()
    cpu.sort()
    return {
        "load_s": statistics.median(loads),
        "index_s": statistics.median(builds),
        "median_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "cpu_p99_ms": 1000 * cpu[int(0.99 * (len(cpu) - 1))],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_in_child(directory: Path, runs: int, kind: str) -> dict[str, float]:
    """A fresh process per catalog, so peak memory is that of loading and matching alone."""
    out = subprocess.run([sys.executable, __file__, "--measure", str(directory), "--runs", str(runs), "--set", kind],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guides", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--set", choices=SETS, default="chat", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.runs, args.set)))
        return
    print(f"{'catalog':<16}{'load s':>8}{'model+index s':>9}{'median ms':>11}{'p99 ms':>8}{'CPU p99 ms':>12}"
          f"{'peak RSS MB':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), args.guides)
        catalogs = [("shipped", ROOT / "procedures", "chat"), ("shipped letters", ROOT / "procedures", "letters")]
        if args.guides:
            catalogs.append((f"generated {args.guides}", Path(tmp), "chat"))
        for label, directory, kind in catalogs:
            r = measure_in_child(directory, args.runs, kind)
            print(f"{label:<16}{r['load_s']:>8.2f}{r['index_s']:>9.2f}{r['median_ms']:>11.3f}{r['p99_ms']:>8.3f}"
                  f"{r['cpu_p99_ms']:>12.3f}{r['peak_rss_mb']:>13.0f}")


if __name__ == "__main__":
    main()
