"""bench/report.py: turn ci/bench.sh's per-run lines into a Markdown table and a chart.

Usage: report.py RESULTS.tsv[,MORE.tsv] OUT.md OUT.png HOSTS LOAD_BEFORE LOAD_AFTER HOW CORES
Each TSV line: added delay (ms), configuration, wall seconds, peak RSS kB, exit status,
1-minute load average after the run, and (newer runs) CPU seconds, user + sys.
HOW: "MS ms: method" entries separated by ";". One table per delay; the chart has one
panel per delay. Ratios are to shakedown under the default KEX at the same delay."""

import statistics
import sys
from collections import OrderedDict


def load(tsvs):
    """{delay: {configuration: [(wall, rss_kb, rc, load, cpu)]}}, in file order; TSVS is a
    comma-separated list of files (separate ci/bench.sh runs, e.g. one per delay)."""
    runs = OrderedDict()
    lines = [line for tsv in tsvs.split(",") for line in open(tsv)]
    for line in lines:
        delay, name, wall, rss, rc, load, *cpu = line.rstrip("\n").split("\t")
        runs.setdefault(int(delay), OrderedDict()).setdefault(name, []).append(
            (float(wall), int(rss), int(rc), float(load), float(cpu[0]) if cpu else None)
        )
    return runs


def median(rs):
    return statistics.median(r[0] for r in rs)


def cpu(rs):
    """Median CPU seconds (user + sys) of the runs, None when not measured."""
    cs = [r[4] for r in rs if r[4] is not None]
    return statistics.median(cs) if cs else None


def table(hosts, configs):
    """The Markdown lines of one delay's table, and (name, median) for the chart."""
    base = configs.get("shakedown (default KEX)")
    base = median(base) if base else None
    lines = [
        "| configuration | runs | median wall (s) | min-max (s) | CPU user+sys (s) | peak RSS (MB) | x shakedown | failed runs | load avg |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    chart = []
    for name, rs in configs.items():
        walls = [r[0] for r in rs]
        med = median(rs)
        rss = max(r[1] for r in rs) / 1024
        fails = sum(1 for r in rs if r[2] != 0)
        loads = [r[3] for r in rs]
        ratio = f"{med / base:.2f}" if base else "-"
        c = cpu(rs)
        cpu_text = f"{c:.2f}" if c is not None else "-"
        lines.append(
            f"| {name} | {len(rs)} | {med:.2f} | {min(walls):.2f}-{max(walls):.2f} "
            f"| {cpu_text} | {rss:.1f} | {ratio} | {fails} | {min(loads):.1f}-{max(loads):.1f} |"
        )
        chart.append((name, med))
    for kex in ("default", "curve25519-sha256"):
        sd = configs.get(f"shakedown ({kex} KEX)")
        references = [
            ("floor", f"floor: {hosts} hosts in parallel ({kex} KEX)", " (target <= 1.3x)"),
            ("floor + work", f"floor + work: {hosts} hosts, the checks in 1 command each ({kex} KEX)", ""),
        ]
        for label, name, target in references:
            ref = configs.get(name)
            if not (sd and ref):
                continue
            # Measured in rounds (ci/bench.sh): run i of each was taken side by side.
            paired = statistics.median(a[0] / b[0] for a, b in zip(sd, ref))
            lines.append("")
            lines.append(
                f"shakedown / {label} ({kex} KEX): {median(sd):.2f} s / {median(ref):.2f} s "
                f"= **{median(sd) / median(ref):.2f}x**{target}; median of the per-round ratios {paired:.2f}x"
            )
    lines += warm_lines(hosts, configs)
    return lines, chart


def warm_lines(hosts, configs):
    """The warm targets (ci/bench.sh --warm): shakedown warm within 1.3x the warm floor,
    at least 20x faster than the fastest warm testinfra, and 10x less CPU than cold."""
    warm = configs.get("shakedown warm (--keep-connections)")
    if not warm:
        return []
    out = []
    floor = configs.get(f"warm floor: {hosts} hosts in parallel, over open masters")
    if floor:
        paired = statistics.median(a[0] / b[0] for a, b in zip(warm, floor))
        out += ["", f"shakedown warm / warm floor: {median(warm):.2f} s / {median(floor):.2f} s "
                f"= **{median(warm) / median(floor):.2f}x** (target <= 1.3x); median of the per-round ratios {paired:.2f}x"]
    ti = [(median(rs), n) for n, rs in configs.items() if n.startswith("testinfra") and ", warm," in n]
    if ti:
        best, name = min(ti)
        out += ["", f"fastest warm testinfra ({name}) / shakedown warm: {best:.2f} s / {median(warm):.2f} s "
                f"= **{best / median(warm):.1f}x** (bar >= 20x)"]
    cold = configs.get("shakedown (default KEX)")
    if cold and cpu(cold) is not None and cpu(warm):
        out += ["", f"controller CPU, shakedown cold / warm: {cpu(cold):.2f} s / {cpu(warm):.2f} s "
                f"= **{cpu(cold) / cpu(warm):.1f}x** less per warm run (target >= 10x)"]
    return out


def main():
    tsv, md, png, hosts, load_before, load_after, how, cores = sys.argv[1:9]
    runs = load(tsv)
    how = dict(h.split(": ", 1) for h in how.split(";") if ": " in h)
    out = [
        f"{hosts} hosts x 10 checks, median wall time of the runs shown. Machine: {cores} cores, "
        f"load average before {load_before}, after {load_after} (the lab hosts run on the same cores).",
    ]
    panels = []
    for delay, configs in runs.items():
        lines, bars = table(hosts, configs)
        method = how.get(f"{delay} ms", "")
        out += ["", f"### +{delay} ms per packet, each direction" + (f" ({method})" if method and delay else ""), ""]
        out += lines
        panels.append((delay, bars))
    text = "\n".join(out) + "\n"
    print(text)
    with open(md, "w") as f:
        f.write("# Benchmark results (written by ci/bench.sh)\n\n" + text)
        f.write(
            "\nPeak RSS: the largest single process of the run (GNU time), not the sum: for "
            "shakedown, shakedown itself without its ssh master processes. Floor: fresh "
            "`ssh HOST true` (one handshake + one command), no connection sharing.\n"
        )
    chart(png, hosts, panels)


def chart(png, hosts, charts):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: no matplotlib, no chart", file=sys.stderr)
        return
    rows = max(len(c) for _, c in charts)
    fig, axes = plt.subplots(
        1, len(charts), figsize=(9.5 * len(charts), 0.42 * rows + 1.4), squeeze=False, sharey=False
    )
    for ax, (delay, data) in zip(axes[0], charts):
        names = [n for n, _ in data][::-1]
        vals = [v for _, v in data][::-1]
        colors = [
            "tab:green" if n.startswith("shakedown")
            else "tab:gray" if n.startswith("floor") or n.startswith("warm floor")
            else "tab:orange" if n.startswith("ssh loop")
            else "tab:blue"
            for n in names
        ]
        ax.barh(names, vals, color=colors)
        ax.set_xscale("log")
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.2f}s", va="center", fontsize=8)
        ax.set_xlabel("median wall time (s, log scale), lower is better")
        ax.set_title(f"{hosts} hosts x 10 checks, +{delay} ms per packet")
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlim(right=max(vals) * 3)
    fig.tight_layout()
    fig.savefig(png, dpi=90)


if __name__ == "__main__":
    main()
