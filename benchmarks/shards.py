"""Sharding benchmark: hostnames moved when the shard count changes, plan time and memory per shard, and
the state bytes a DIY backend writes during onboarding for one stack against N shards.

Inputs are `run.py`'s: customers `customer<i>` with `www.` and `shop.customer<i>.example`.

- `moves`: exact counts over all hostnames, for N → N+1 and N → 2N, with `infra.model.sharding.shard_of`
  (the function the program, the CLI and CI use). Fast (a second or two for 50,000 hostnames).
- `plan`: for each N, the share of shard 0 (the hostnames `shard_of` gives it) written as a customers file
  and rendered by the real program under the mock engine in a fresh interpreter (`run.py`'s `child_plan`:
  wall and CPU seconds, peak RSS, the measured state bytes per custom hostname). The share is rendered
  with the stack's own role (`dev`, role `all`), so it also declares the zone-wide resources a shard does
  not: a shard's plan is at most this. Slow: ~4 ms of CPU per hostname, so N = 1 at 50,000 takes minutes.
- `state`: the DIY-backend model. A checkpoint rewrites the whole state before and after each resource
  operation, so creating n hostnames writes about sum over i of 2·i·b = n²·b bytes (b: state bytes per
  custom hostname, measured by `plan` or given). N shards of n/N write N·(n/N)²·b = n²·b/N in total.

    python benchmarks/shards.py moves [--hostnames 50000] [--counts 1,2,3,4,5,10,25]
    python benchmarks/shards.py plan [--hostnames 50000] [--counts 25,10,5,1] [--json out.json]
    python benchmarks/shards.py state [--hostnames 50000] [--counts 1,5,10,25] [--bytes-per-hostname 2300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from infra.model.sharding import shard_of  # noqa: E402

HOSTNAMES_PER_CUSTOMER = 2


def hostnames(count: int) -> list[tuple[str, str]]:
    """(customer id, hostname) for `count` hostnames, two per customer as in run.py."""
    pairs = []
    for i in range((count + HOSTNAMES_PER_CUSTOMER - 1) // HOSTNAMES_PER_CUSTOMER):
        for name in (f"www.customer{i}.example", f"shop.customer{i}.example"):
            pairs.append((f"customer{i}", name))
    return pairs[:count]


def moved(names: list[str], before: int, after: int) -> int:
    """How many hostnames change shard when the count goes from `before` to `after`."""
    return sum(1 for name in names if shard_of(name, before) != shard_of(name, after))


def moves(count: int, counts: list[int]) -> list[dict]:
    names = [name for _, name in hostnames(count)]
    rows = []
    for n in counts:
        for label, after in (("N+1", n + 1), ("2N", 2 * n))[: 1 if n == 1 else 2]:
            started = time.perf_counter()
            k = moved(names, n, after)
            rows.append({"from": n, "to": after, "kind": label, "hostnames": len(names), "moved": k,
                         "fraction": k / len(names), "ideal": (after - n) / after,
                         "seconds": time.perf_counter() - started})
    return rows


def write_share(directory: Path, count: int, shards: int, shard: int) -> tuple[Path, int]:
    """A customers file of the hostnames `shard` owns among `count`, grouped by customer."""
    owned: dict[str, list[str]] = {}
    for customer, name in hostnames(count):
        if shard_of(name, shards) == shard:
            owned.setdefault(customer, []).append(name)
    lines = ["defaults:", '  ssl: {method: http, min_tls_version: "1.2"}', "customers:" if owned else "customers: []"]
    for customer, names in owned.items():
        lines += [f"  - id: {customer}", f"    hostnames: [{', '.join(names)}]"]
    path = directory / f"share-{count}-{shards}-{shard}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, sum(len(v) for v in owned.values())


def share_sizes(count: int, shards: int) -> list[int]:
    sizes = [0] * shards
    for _, name in hostnames(count):
        sizes[shard_of(name, shards)] += 1
    return sizes


def plan(count: int, counts: list[int], out: Path | None) -> list[dict]:
    from run import measure

    rows = []
    with tempfile.TemporaryDirectory(prefix="saas-domains-shards-") as tmp:
        for n in counts:
            path, size = write_share(Path(tmp), count, n, 0)
            sizes = share_sizes(count, n)
            report = measure("plan", "project", str(path), str(path))
            row = {"shards": n, "hostnames": count, "shard0_hostnames": size,
                   "smallest_share": min(sizes), "largest_share": max(sizes), **report}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if out:
                out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return rows


def state_model(count: int, counts: list[int], per_hostname: float) -> list[dict]:
    """Bytes a DIY backend writes while n hostnames are created from nothing, split over N shards.

    Each create writes the state twice (operation started, operation done) at the size it has then:
    sum_{i<n} 2·i·b = n(n−1)·b per stack. Exact sums, not the n² approximation.
    """
    rows = []
    for n in counts:
        sizes = share_sizes(count, n)
        total = sum(s * (s - 1) * per_hostname for s in sizes)
        largest = max(sizes)
        rows.append({"shards": n, "hostnames": count, "largest_share": largest,
                     "final_state_bytes_largest": largest * per_hostname, "bytes_written_total": total,
                     "bytes_written_largest": largest * (largest - 1) * per_hostname})
    return rows


def _ints(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("moves", "plan", "state"))
    parser.add_argument("--hostnames", type=int, default=50_000)
    parser.add_argument("--counts", default=None, help="comma-separated shard counts")
    parser.add_argument("--bytes-per-hostname", type=float, default=None,
                        help="state: state bytes per custom hostname (default: measure a 1,000-hostname plan)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.what == "moves":
        rows = moves(args.hostnames, _ints(args.counts or "1,2,3,4,5,9,10,24,25"))
        print("| N → | hostnames | moved | fraction | ideal (new/after) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for r in rows:
            print(f"| {r['from']} → {r['to']} | {r['hostnames']:,} | {r['moved']:,} | {r['fraction']:.4f} | "
                  f"{r['ideal']:.4f} |")
    elif args.what == "plan":
        plan(args.hostnames, _ints(args.counts or "25,10,5,1"), args.json)
    else:
        per_hostname = args.bytes_per_hostname
        if per_hostname is None:
            from run import measure

            with tempfile.TemporaryDirectory(prefix="saas-domains-shards-") as tmp:
                path, _ = write_share(Path(tmp), 1000, 1, 0)
                per_hostname = measure("plan", "project", str(path), str(path))["state_bytes_per_hostname"]
        print(f"state bytes per custom hostname: {per_hostname:,.0f}")
        print("| shards | largest share | its final state | bytes written, all stacks | vs one stack |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        rows = state_model(args.hostnames, _ints(args.counts or "1,5,10,25"), per_hostname)
        for r in rows:
            ratio = r["bytes_written_total"] / rows[0]["bytes_written_total"]
            print(f"| {r['shards']} | {r['largest_share']:,} | {r['final_state_bytes_largest'] / 1e6:,.1f} MB | "
                  f"{r['bytes_written_total'] / 1e9:,.0f} GB | {ratio:.3f} |")
    if args.json and args.what != "plan":
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
