"""Scale benchmark: validation and the offline plan at N customers, against a bare Pulumi baseline.

For each size it generates a customers file of N customers with two hostnames each
(`www.customer<i>.example`, `shop.customer<i>.example`, the shape `diff_benchmark.py` uses) in a
temporary directory, then measures, each in a fresh Python process so peak memory is per case:

- validation: `infra.model.customers.load_customers` alone (what `saas-domains validate` does);
- project plan: the real `__main__.py` under Pulumi's mock engine (`infra.offline.render`, what
  `saas-domains plan` and the tests run), with `Pulumi.dev.yaml`'s settings and `maxHostnames` raised;
- bare plan: `benchmarks/bare/__main__.py` under the same engine, declaring the same number of
  `cloudflare.CustomHostname` resources with the same inputs and the same per-hostname output shape,
  with no project code.

Before measuring, both programs run on a 3-customer file and must declare identical custom hostname
inputs and identical `customerHostnames` outputs. Each plan is also run with zero customers, so the
report separates the fixed cost (imports, the other resources) from the cost per hostname. Times are
wall-clock and CPU seconds of the measured call; memory is the process's peak resident set size
(`ru_maxrss`). `--gc off` runs both plans with CPython's cyclic garbage collector disabled (see
docs/scale.md: it is half of the plan's CPU time).

`--stack gcp-example` measures the project with the Cloud Run origin instead of the ALB (`dev`).

    python benchmarks/run.py [--sizes 1000,5000,10000,20000] [--repeat 1] [--gc on|off] [--stack dev]
                             [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE = Path(__file__).resolve().parent / "bare"
HOSTNAMES_PER_CUSTOMER = 2
ZONE_ID = "0123456789abcdef0123456789abcdef"  # what infra/offline_cloud.py answers for the zone lookup


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def hostnames_of(customer: int) -> list[str]:
    return [f"www.customer{customer}.example", f"shop.customer{customer}.example"]


def write_inputs(directory: Path, customers: int) -> tuple[Path, Path]:
    """The customers file for the project and the same hostnames as plain lines for the bare baseline."""
    yaml_lines = ["defaults:", '  ssl: {method: http, min_tls_version: "1.2"}',
                  "customers:" if customers else "customers: []"]
    bare_lines = []
    for i in range(customers):
        names = hostnames_of(i)
        yaml_lines += [f"  - id: customer{i}", f"    hostnames: [{', '.join(names)}]"]
        bare_lines += [f"{name} customer{i}" for name in names]
    customers_path = directory / f"customers-{customers}.yaml"
    customers_path.write_text("\n".join(yaml_lines) + "\n", encoding="utf-8")
    bare_path = directory / f"hostnames-{customers}.txt"
    bare_path.write_text("".join(line + "\n" for line in bare_lines), encoding="utf-8")
    return customers_path, bare_path


# --------------------------------------------------------------------------
# Children: one measurement each, reported as JSON on stdout
# --------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def child_validate(path: Path) -> dict:
    started = time.perf_counter()
    from infra.model.customers import ValidationRules, load_customers
    from infra.model.settings import read_stack_file

    imported = time.perf_counter()
    zone = read_stack_file(ROOT, "dev")["saas-domains:zone"]
    model = load_customers(path, ValidationRules(zone=zone, max_hostnames=10**9))
    done = time.perf_counter()
    return {"seconds": done - imported, "import_seconds": imported - started,
            "hostnames": len(model.hostnames), "peak_rss_mb": _peak_rss_mb()}


def _plan_config(program: str, customers_path: Path, bare_path: Path) -> tuple[dict[str, str], Path]:
    """The stack config and project directory `render` needs for one program.

    `render` reads nothing but `<project_dir>/__main__.py` when the config is given (the stack file
    only when it is not), so the bare baseline is a directory with its `__main__.py` alone.
    """
    from infra.model.settings import read_stack_file
    from infra.offline import config_value

    if program == "project":
        config = {key: config_value(value) for key, value in read_stack_file(ROOT, _stack()).items()}
        config["saas-domains:customersFile"] = str(customers_path)
        config["saas-domains:maxHostnames"] = str(10**9)
        return config, ROOT
    zone = read_stack_file(ROOT, "dev")["saas-domains:zone"]
    return ({"saas-domains:zoneId": ZONE_ID, "saas-domains:cnameDomain": f"cname.{zone}",
             "saas-domains:hostnamesFile": str(bare_path)}, BARE)


def _stack() -> str:
    """The project's stack to measure: `dev` (the ALB origin) unless --stack chose another."""
    return os.environ.get("SAAS_DOMAINS_BENCH_STACK", "dev")


def child_plan(program: str, customers_path: Path, bare_path: Path) -> dict:
    if os.environ.get("SAAS_DOMAINS_BENCH_GC") == "off":
        import gc

        gc.disable()
    started = time.perf_counter()
    from infra.offline import render
    from infra.offline_cloud import OfflineCloud

    imported = time.perf_counter()
    rss_after_engine_import = _peak_rss_mb()
    config, project_dir = _plan_config(program, customers_path, bare_path)
    cloud = OfflineCloud()
    began, began_cpu = time.perf_counter(), time.process_time()
    rendering = render(project_dir, _stack() if program == "project" else "dev", config=config, cloud=cloud)
    done, done_cpu = time.perf_counter(), time.process_time()
    peak = _peak_rss_mb()
    hostnames = [r for r in rendering.resources if r.type == "cloudflare:index/customHostname:CustomHostname"]
    outputs = rendering.outputs.get("customerHostnames") or {}
    assert len(outputs) == len(hostnames), (len(outputs), len(hostnames))
    return {"seconds": done - began, "cpu_seconds": done_cpu - began_cpu, "import_seconds": imported - started,
            "custom_hostnames": len(hostnames), "resources": len(rendering.resources),
            "rss_after_engine_import_mb": rss_after_engine_import, "peak_rss_mb": peak,
            "state_bytes_per_hostname": _state_bytes(hostnames, outputs)}


def _state_bytes(hostnames: list, outputs: dict) -> float:
    """Average size of a custom hostname as a checkpoint records it (a lower bound: the mock's outputs only)."""
    if not hostnames:
        return 0.0
    total = 0
    for resource in hostnames:
        entry = {"urn": resource.urn, "custom": True, "id": resource.id, "type": resource.type,
                 "inputs": resource.inputs, "outputs": resource.state, "parent": resource.parent,
                 "provider": "urn:pulumi:dev::saas-domains::pulumi:providers:cloudflare::default_6_23_1::"
                             "00000000-0000-0000-0000-000000000000",
                 "propertyDependencies": {"zoneId": [], "hostname": [], "ssl": []},
                 "created": "2026-01-01T00:00:00.000000000Z", "modified": "2026-01-01T00:00:00.000000000Z"}
        total += len(json.dumps(entry, indent=4))  # DIY backends write indented JSON
        total += len(json.dumps({resource.name: outputs.get(resource.name)}, indent=4))  # its stack output
    return total / len(hostnames)


def child_same_shape(customers_path: Path, bare_path: Path) -> dict:
    """Both programs on the same small input: the baseline must declare what the project declares."""
    declared = {}
    for program in ("project", "bare"):
        from infra.offline import render

        config, project_dir = _plan_config(program, customers_path, bare_path)
        rendering = render(project_dir, "dev", config=config)
        hostnames = [r for r in rendering.resources if r.type == "cloudflare:index/customHostname:CustomHostname"]
        declared[program] = ({r.name: r.inputs for r in hostnames}, rendering.outputs["customerHostnames"])
    if declared["project"] != declared["bare"]:
        return {"same": False, "project": repr(declared["project"])[:2000], "bare": repr(declared["bare"])[:2000]}
    return {"same": True, "hostnames": len(declared["project"][0])}


def measure(kind: str, *args: str) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, *args]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{kind} {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["process_seconds"] = time.perf_counter() - started
    return report


# --------------------------------------------------------------------------
# Parent: generate, measure, report
# --------------------------------------------------------------------------


def best(runs: list[dict]) -> dict:
    """The fastest of repeated runs (least disturbed by other load), with the largest peak memory."""
    chosen = dict(min(runs, key=lambda r: r["seconds"]))
    chosen["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    if "cpu_seconds" in chosen:
        chosen["cpu_seconds"] = min(r["cpu_seconds"] for r in runs)
    return chosen


def run(sizes: list[int], repeat: int) -> dict:
    results: dict = {"sizes": sizes, "repeat": repeat, "hostnames_per_customer": HOSTNAMES_PER_CUSTOMER,
                     "python": platform.python_version(), "machine": platform.machine(),
                     "cpus": os.cpu_count(), "gc": os.environ.get("SAAS_DOMAINS_BENCH_GC", "on"), "cases": []}
    with tempfile.TemporaryDirectory(prefix="saas-domains-bench-") as tmp:
        same = measure("same-shape", *map(str, write_inputs(Path(tmp), 3)))
        if not same["same"]:
            sys.exit(f"the bare baseline does not declare what the project declares: {same}")
        for customers in [0, *sizes]:
            customers_path, bare_path = write_inputs(Path(tmp), customers)
            case = {"customers": customers, "hostnames": customers * HOSTNAMES_PER_CUSTOMER,
                    "file_mb": customers_path.stat().st_size / 1e6}
            runs: dict[str, list[dict]] = {"validate": [], "project": [], "bare": []}
            for _ in range(repeat):
                # Interleaved, so slow phases of a shared machine hit both programs alike.
                runs["validate"].append(measure("validate", str(customers_path)))
                runs["project"].append(measure("plan", "project", str(customers_path), str(bare_path)))
                runs["bare"].append(measure("plan", "bare", str(customers_path), str(bare_path)))
            for kind, measured in runs.items():
                case[kind] = best(measured)
            if case["project"]["custom_hostnames"] != case["bare"]["custom_hostnames"]:
                sys.exit(f"the programs declared different numbers of custom hostnames: {case}")
            results["cases"].append(case)
            print(_row(case, results["cases"][0]), flush=True)
    return results


_HEADER = (
    "| customers | hostnames | validation | project plan, wall (CPU) | bare plan, wall (CPU) | ratio wall (CPU) | "
    "project peak RSS | bare peak RSS | RSS ratio | CPU ms per hostname, project / bare |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def _row(case: dict, zero: dict) -> str:
    project, bare = case["project"], case["bare"]
    hostnames = case["hostnames"]

    def per_hostname(kind: str) -> str:
        return f"{1000 * (case[kind]['cpu_seconds'] - zero[kind]['cpu_seconds']) / hostnames:.2f}"

    marginal = f"{per_hostname('project')} / {per_hostname('bare')}" if hostnames else "—"
    return (f"| {case['customers']:,} | {hostnames:,} | {case['validate']['seconds']:.2f} s | "
            f"{project['seconds']:.1f} s ({project['cpu_seconds']:.1f} s) | "
            f"{bare['seconds']:.1f} s ({bare['cpu_seconds']:.1f} s) | "
            f"{project['seconds'] / bare['seconds']:.2f} ({project['cpu_seconds'] / bare['cpu_seconds']:.2f}) | "
            f"{project['peak_rss_mb']:,.0f} MB | {bare['peak_rss_mb']:,.0f} MB | "
            f"{project['peak_rss_mb'] / bare['peak_rss_mb']:.2f} | {marginal} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000,20000",
                        help="comma-separated numbers of customers (two hostnames each)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest is reported")
    parser.add_argument("--gc", choices=("on", "off"), default="on",
                        help="off: plans run with CPython's cyclic garbage collector disabled")
    parser.add_argument("--stack", default="dev",
                        help="the project's stack: dev (ALB origin) or gcp-example (Cloud Run origin)")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "validate":
            report = child_validate(Path(rest[0]))
        elif kind == "same-shape":
            report = child_same_shape(Path(rest[0]), Path(rest[1]))
        else:
            report = child_plan(rest[0], Path(rest[1]), Path(rest[2]))
        print(json.dumps(report))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    os.environ["SAAS_DOMAINS_BENCH_GC"] = args.gc  # inherited by the children
    os.environ["SAAS_DOMAINS_BENCH_STACK"] = args.stack
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{HOSTNAMES_PER_CUSTOMER} hostnames per customer; best of {args.repeat}; "
          f"garbage collector {args.gc}; stack {args.stack}; "
          "CPU ms per hostname = (CPU time at N − CPU time at 0) / hostnames\n")
    print(_HEADER, flush=True)
    results = run(sizes, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
