"""How long `saas-domains diff` takes on a large customers file (issue: well under a few seconds at 10,000).

Builds a throwaway git repository with a generated customers file of N customers (two hostnames each)
on `main`, changes it in the working tree (100 customers added, 3 removed, 50 re-configured, 20
hostnames moved), then times the real command end to end in a subprocess, per output format.

    python benchmarks/diff_benchmark.py [--customers 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def customers_file(count: int, *, skip: set[int] = frozenset(), retuned: set[int] = frozenset(),
                   moved: set[int] = frozenset(), extra: int = 0) -> str:
    lines = ["defaults:", '  ssl: {method: http, min_tls_version: "1.2"}', "customers:"]
    for i in range(count + extra):
        if i in skip:
            continue
        hosts = [f"www.customer{i}.example", f"shop.customer{i}.example"]
        if i in moved:
            hosts = hosts[:1]
        if i - 1 in moved:
            hosts.append(f"shop.customer{i - 1}.example")
        lines += [f"  - id: customer{i}", f"    hostnames: [{', '.join(hosts)}]"]
        if i in retuned:
            lines.append('    ssl: {min_tls_version: "1.3"}')
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.customers
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
            shutil.copy(ROOT / name, repo / name)
        stack = (repo / "Pulumi.dev.yaml").read_text()
        (repo / "Pulumi.dev.yaml").write_text(stack.replace("maxHostnames: 5000", "maxHostnames: 50000"))
        (repo / "customers.yaml").write_text(customers_file(n))
        git = ["git", "-c", "user.email=b@example.invalid", "-c", "user.name=b"]
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
        subprocess.run([*git, "add", "."], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
        (repo / "customers.yaml").write_text(customers_file(
            n, skip={1, 2, 3}, retuned=set(range(100, 150)), moved=set(range(200, 240, 2)), extra=100))
        size = (repo / "customers.yaml").stat().st_size
        print(f"{n:,} customers ({2 * n:,} hostnames), file {size / 1e6:.1f} MB; best and median of {args.repeat}")
        summary = ""
        for fmt in ("text", "markdown", "json"):
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = subprocess.run(
                    [sys.executable, "-m", "infra", "diff", "--base", "main", "--format", fmt,
                     "--allow-removals", "10"], cwd=repo, capture_output=True, text=True)
                times.append(time.perf_counter() - started)
                if result.returncode != 0:
                    sys.exit(f"diff failed ({result.returncode}): {result.stderr[-2000:]}")
            print(f"  --format {fmt:<8} best {min(times):.2f} s  median {statistics.median(times):.2f} s")
            if fmt == "text":
                summary = result.stdout.splitlines()[1]
        print(f"  the change: {summary}")


if __name__ == "__main__":
    main()
