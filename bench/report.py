"""bench/report.py: turn ci/bench.sh's per-run lines into bench/results.md and a chart.

Usage: report.py RESULTS.tsv OUT.md OUT.png HOSTS DELAY LOAD_BEFORE LAB_DIR LOAD_AFTER
Each TSV line: configuration, wall seconds, peak RSS kB, exit status."""

import statistics
import sys
from collections import OrderedDict


def main():
    tsv, md, png, hosts, delay, load_before, _lab, load_after = sys.argv[1:9]
    runs = OrderedDict()
    for line in open(tsv):
        name, wall, rss, rc = line.rstrip("\n").split("\t")
        runs.setdefault(name, []).append((float(wall), int(rss), int(rc)))
    base = None
    for name in runs:
        if name.startswith("shakedown (default"):
            base = statistics.median(w for w, _, _ in runs[name])
    lines = [
        f"{hosts} hosts x 10 checks, added delay {delay} ms, median wall time; "
        f"load average before {load_before}, after {load_after} (2 cores).",
        "",
        "| configuration | runs | median wall (s) | min-max (s) | peak RSS (MB) | vs shakedown | failed runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    chart = []
    for name, rs in runs.items():
        walls = [w for w, _, _ in rs]
        med = statistics.median(walls)
        rss = max(r for _, r, _ in rs) / 1024
        fails = sum(1 for _, _, rc in rs if rc != 0)
        ratio = f"{med / base:.1f}x" if base else "-"
        lines.append(
            f"| {name} | {len(rs)} | {med:.2f} | {min(walls):.2f}-{max(walls):.2f} "
            f"| {rss:.1f} | {ratio} | {fails} |"
        )
        chart.append((name, med))
    text = "\n".join(lines) + "\n"
    print(text)
    with open(md, "w") as f:
        f.write("# Benchmark results (written by ci/bench.sh)\n\n" + text)
        f.write(
            "\nPeak RSS is the largest single process of the run (GNU time), not the sum: "
            "for shakedown it excludes its ssh master processes.\n"
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(chart) + 1.2))
    names = [n for n, _ in chart][::-1]
    vals = [v for _, v in chart][::-1]
    colors = ["tab:green" if n.startswith("shakedown") else
              "tab:gray" if n.startswith("floor") else "tab:blue" for n in names]
    ax.barh(names, vals, color=colors)
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v:.2f}s", va="center", fontsize=8)
    ax.set_xlabel("median wall time (s), lower is better")
    ax.set_title(f"{hosts} hosts x 10 checks, +{delay} ms (load {load_before})")
    fig.tight_layout()
    fig.savefig(png, dpi=100)


if __name__ == "__main__":
    main()
