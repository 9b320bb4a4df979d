"""Understanding speed and memory: per-message latency, catalog load time, peak memory.

Run: python benchmarks/matching.py [--guides 2000] [--runs 5]
Prints figures for the shipped catalog and for a generated catalog of N guides (a province's
full procedure list is about 2,000). Figures are medians over runs; compare them as ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.catalog import load_catalog  # noqa: E402
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


def messages() -> list[str]:
    dev = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    if dev.exists():
        return [json.loads(line)["text"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    return ["lam giay khai sinh cho con can gi", "sang ten so do mat bao lau", "khai bao tam vang o dau"] * 50


def measure(directory: Path, runs: int) -> dict[str, float]:
    loads, latencies = [], []
    for _ in range(runs):
        start = time.perf_counter()
        matcher = Matcher(load_catalog(directory))
        loads.append(time.perf_counter() - start)
        for text in messages():
            t0 = time.perf_counter()
            matcher.understand(text)
            latencies.append(time.perf_counter() - t0)
    tracemalloc.start()
    matcher = Matcher(load_catalog(directory))
    for text in messages():
        matcher.understand(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    latencies.sort()
    return {
        "load_s_median": statistics.median(loads),
        "latency_ms_median": 1000 * statistics.median(latencies),
        "latency_ms_p99": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "python_heap_peak_mb": peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guides", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'catalog':<22}{'load s':>10}{'median ms':>12}{'p99 ms':>10}{'heap MB':>10}")
    for label, directory in [("shipped", ROOT / "procedures")]:
        r = measure(directory, args.runs)
        print(f"{label:<22}{r['load_s_median']:>10.3f}{r['latency_ms_median']:>12.3f}{r['latency_ms_p99']:>10.3f}{r['python_heap_peak_mb']:>10.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), args.guides)
        r = measure(Path(tmp), args.runs)
        print(f"{f'generated {args.guides}':<22}{r['load_s_median']:>10.3f}{r['latency_ms_median']:>12.3f}{r['latency_ms_p99']:>10.3f}{r['python_heap_peak_mb']:>10.1f}")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
