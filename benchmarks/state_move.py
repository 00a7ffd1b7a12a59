"""`saas-domains reshard --execute` with the real `pulumi state move`: time per batch and state sizes.

The real CLI (tools/engine/build) on a temporary file backend. The source stack of role `all` is
seeded with what the program declares for N hostnames (rendered under the mock engine: the `customers`
component and one custom hostname per hostname, as `pulumi up` would have left them), then the real
command moves them to S shard stacks in batches of B. What it prints: wall seconds of the whole
command and per `pulumi state move` batch, the hostnames per second, and the state bytes of the source
before and of each shard after (a file-backend checkpoint is rewritten whole by every move, so a move's
cost grows with both stacks' state).

    python benchmarks/state_move.py [--hostnames 1000] [--shards 3] [--batch 100] [--json out.json]

Inputs are `run.py`'s customers (`customer<i>` with `www.` and `shop.customer<i>.example`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import write_inputs  # noqa: E402

from infra.model.names import CUSTOM_HOSTNAME_RESOURCE, CUSTOMER_HOSTNAMES_TYPE  # noqa: E402
from infra.offline import render  # noqa: E402
from tests.conftest import stack_config  # noqa: E402
from tests.engine.real_pulumi import RealPulumi, deployed_state, toolchain_bin  # noqa: E402

PLUGIN_VERSIONS = {"cloudflare": "6.23.1"}


def state_bytes(pulumi: RealPulumi, stack: str) -> int:
    return len(pulumi.run("stack", "export", "--stack", stack).stdout.encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hostnames", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    bin_dir = toolchain_bin(ROOT)
    if bin_dir is None:
        print("the real Pulumi CLI is not built: run tools/engine/build first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        customers, _ = write_inputs(work, args.hostnames // 2)
        pulumi = RealPulumi(ROOT, bin_dir, work)
        try:
            source = pulumi.new_stack({"zone": "mailito.com", "zoneId": "023e105f4ecef8ad9ca31a8372d0c353",
                                       "customersFile": str(customers), "maxHostnames": str(args.hostnames)})
            started = time.monotonic()
            rendering = render(ROOT, source, config=stack_config(
                "dev", zone="mailito.com", zoneId="023e105f4ecef8ad9ca31a8372d0c353", customersFile=str(customers),
                maxHostnames=args.hostnames))
            declared = [r for r in rendering.resources if r.type in (CUSTOMER_HOSTNAMES_TYPE, CUSTOM_HOSTNAME_RESOURCE)]
            pulumi.seed(source, deployed_state(source, declared, {}, PLUGIN_VERSIONS))
            seeded = time.monotonic() - started
            before = state_bytes(pulumi, source)
            prefix = f"{source}-shard-"
            pulumi.stacks += [f"{prefix}{i}" for i in range(args.shards)]
            started = time.monotonic()
            run = subprocess.run(
                [sys.executable, "-m", "infra", "reshard", "--to", str(args.shards), "--from-all", source,
                 "--stack-prefix", prefix, "--execute", "--batch", str(args.batch)],
                cwd=ROOT, env=pulumi.env, capture_output=True, text=True, check=False)
            seconds = time.monotonic() - started
            if run.returncode != 0:
                print(run.stdout[-2000:], run.stderr[-2000:], file=sys.stderr)
                return 1
            moved = sum(1 for line in run.stdout.splitlines() if line.startswith("batch "))
            result = {
                "hostnames": args.hostnames, "shards": args.shards, "batch": args.batch,
                "seed_seconds": round(seeded, 1), "reshard_seconds": round(seconds, 1), "batches": moved,
                "seconds_per_batch": round(seconds / max(moved, 1), 2),
                "hostnames_per_second": round(args.hostnames / seconds, 1),
                "source_state_bytes_before": before,
                "shard_state_bytes_after": [state_bytes(pulumi, f"{prefix}{i}") for i in range(args.shards)],
            }
        finally:
            pulumi.close()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
