"""The `saas-domains` command line: one module per command, this one only dispatches.

Exit codes, for CI: 0 fine, 1 the customers file or the program has problems, 2 usage or setup error.
"""

from __future__ import annotations

import argparse
import sys

from infra.cli import check, diff, import_, instructions, plan, status, validate

# Each command is a module with add_parser(commands), which sets `run` as the parser's default.
COMMANDS = (validate, plan, diff, status, instructions, check, import_)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saas-domains",
        description="Customer custom domains through Cloudflare for SaaS: validate, diff and render the stack "
                    "offline; report status, DNS instructions and diagnoses from the live zone.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
