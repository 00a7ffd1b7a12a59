"""A stand-in `pulumi` CLI for tests/e2e/test_e2e_automation.py: it records every invocation the Automation API
makes (arguments, working directory, the variables that matter) and answers the few commands the throw-away
stack uses the way the real CLI does. It deploys nothing.

FAKE_PULUMI_LOG      JSON lines, one per invocation
FAKE_PULUMI_OUTPUTS  the JSON `pulumi stack output --json` prints
FAKE_PULUMI_FAIL     a command (e.g. "up") that fails
FAKE_PULUMI_DESTROY_FAILURES  how many destroys fail (with Cloudflare's error 1039) before one succeeds
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

RECORDED = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PATH", "CLOUDFLARE_API_TOKEN")


def main(argv: list[str]) -> int:
    args = list(argv)
    while args and args[0] in ("--non-interactive", "--color=never"):  # global flags before the command
        args.pop(0)
    with open(os.environ["FAKE_PULUMI_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"argv": argv, "args": args, "cwd": os.getcwd(),
                              "env": {k: os.environ.get(k) for k in RECORDED}}) + "\n")
    stack = args[args.index("--stack") + 1] if "--stack" in args else None
    command = args[0] if args else ""
    if os.environ.get("FAKE_PULUMI_FAIL") == command:
        print(f"error: {command} failed half-way", file=sys.stderr)
        return 255
    if command == "version":
        print("v3.300.0")
    elif args[:2] == ["stack", "init"]:
        Path(f"Pulumi.{args[2]}.yaml").write_text("encryptionsalt: v1:fake\n")  # as the CLI does, beside Pulumi.yaml
    elif args[:2] == ["config", "set-all"]:
        pass
    elif command == "up":
        print(f"Updating ({stack})")
        print("Resources:\n    + 20 created")
    elif args[:2] == ["stack", "output"]:
        print(os.environ.get("FAKE_PULUMI_OUTPUTS", "{}"))
    elif args[:2] == ["stack", "history"]:
        print(json.dumps([{"kind": "update", "startTime": "2026-11-28T06:00:00.000Z", "message": "",
                           "environment": {}, "config": {}, "result": "succeeded",
                           "endTime": "2026-11-28T06:10:00.000Z", "version": 1}]))
    elif command == "destroy":
        counter = Path(os.environ["FAKE_PULUMI_LOG"] + ".destroys")
        done = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(done + 1))
        if done < int(os.environ.get("FAKE_PULUMI_DESTROY_FAILURES", "0")):
            print("error: deleting urn:...:proxy-fallback: 1039: fallback origin is still being deleted",
                  file=sys.stderr)
            return 255
        print(f"Destroying ({stack})")
    elif args[:2] == ["stack", "rm"]:
        Path(f"Pulumi.{args[-1]}.yaml").unlink(missing_ok=True)  # as the CLI does without --preserve-config
    else:
        print(f"fake pulumi: unexpected command {args}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
