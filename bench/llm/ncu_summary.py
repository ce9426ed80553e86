#!/usr/bin/env python3
"""Sums an `ncu --csv --page raw --print-units base` report of decode steps per kernel.

bench/gpu_check.sh profiles one decode step at batch 1 and one at batch 8
(bench_cuda_engine --profile 1); each step begins with the embedding kernel, which is where
the report is cut into steps. Prints, per step and kernel: launches, time, DRAM bytes read and
the read bandwidth.

    python3 bench/llm/ncu_summary.py ncu.txt
"""
import collections
import csv
import re
import sys


def short_name(full):
    # ncu writes the anonymous namespace as "(anonymous namespace)", "<unnamed>" or "unnamed>".
    name = re.sub(r"\(anonymous namespace\)::|<?unnamed>::", "", full)
    m = re.match(r"(?:void\s+)?([\w:]+)(<[^()]*>)?", name)
    if not m:
        return full[:40]
    base = m.group(1).split("::")[-1]
    args = m.group(2) or ""
    args = re.sub(r"\([\w:]+\)", "", args).replace(" ", "")
    args = re.sub(r"[\w:]+::", "", args)
    return (base + args)[:40]


def main(path):
    rows = list(csv.reader(line for line in open(path) if line.startswith('"')))
    if len(rows) < 3:
        sys.exit("ncu_summary: no kernel rows in " + path)
    head, rows = rows[0], rows[2:]  # rows[1] holds the units
    col = {n: head.index(n) for n in ("Kernel Name", "gpu__time_duration.sum",
                                      "dram__bytes_read.sum")}

    def num(r, n):
        return float(r[col[n]].replace(",", ""))

    steps = []
    for r in rows:
        name = short_name(r[col["Kernel Name"]])
        if name.startswith("EmbedKernel") or not steps:
            steps.append(collections.OrderedDict())
        a = steps[-1].setdefault(name, [0, 0.0, 0.0])
        a[0] += 1
        a[1] += num(r, "gpu__time_duration.sum")
        a[2] += num(r, "dram__bytes_read.sum")
    for i, agg in enumerate(steps):
        print(f"decode step {i + 1} (kernels serialised by the profiler)")
        print(f"  {'kernel':40s}{'launches':>9s}{'time us':>10s}{'read MB':>10s}{'GB/s':>8s}")
        for k, (c, t, b) in agg.items():
            print(f"  {k:40s}{c:9d}{t / 1e3:10.1f}{b / 1e6:10.2f}{b / t if t else 0:8.0f}")
        c = sum(a[0] for a in agg.values())
        t = sum(a[1] for a in agg.values())
        b = sum(a[2] for a in agg.values())
        print(f"  {'all':40s}{c:9d}{t / 1e3:10.1f}{b / 1e6:10.2f}{b / t if t else 0:8.0f}")


if __name__ == "__main__":
    main(sys.argv[1])
