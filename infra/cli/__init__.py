"""The `saas-domains` command line: one module per command, this one only dispatches.

Exit codes, for CI (defined once, in infra/cli/status_codes.py):
  0  fine: nothing needs attention
  1  something needs attention: the customers file is or would become invalid, the program stops, a
     hostname or its DNS has a problem, or records are not published yet
  2  cannot run: usage, no project or stack settings, a git revision missing, no CLOUDFLARE_API_TOKEN or
     GITHUB_TOKEN, the Cloudflare or GitHub API failed or the resolver does not answer
  3  `diff` and `validate` only: the change removes more hostnames than allowed without confirmation
  130  interrupted (Ctrl-C)

Every network call ends in bounded time (infra/clients/network_limits.py; `--help` lists the limits
and the environment variables that raise them).

Commands raise their errors; `main()` alone turns them into one message on stderr and an exit code. A usage
error (an unknown option, a value out of range) prints the sub-command's usage before it and exits 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap

from infra.cli import (
    check,
    diff,
    import_,
    instructions,
    plan,
    reshard,
    stacks,
    status,
    status_codes,
    status_issue,
    validate,
)
from infra.cli.errors import report_error
from infra.clients import network_limits
from infra.clients.environment import Clients

# Each command is a module with add_parser(commands), which sets `run` as the parser's default.
COMMANDS = (validate, plan, diff, status, status_issue, instructions, check, import_, reshard, stacks)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's, except that a line break stays one: the exit codes are listed a line each, and an
    indented line ("  130  interrupted") wraps under its text."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            margin = line[:len(line) - len(line.lstrip())]
            hanging = re.match(r"\s+\S+\s+", line)
            lines.append(textwrap.fill(line.strip(), width, initial_indent=indent + margin,
                                       subsequent_indent=indent + " " * (hanging.end() if hanging else 0)))
        return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saas-domains", formatter_class=_HelpFormatter,
        epilog=f"{status_codes.epilog()}\n\n{network_limits.help_text()}",
        description="Customer custom domains through Cloudflare for SaaS: validate, diff and render the stack "
                    "offline; report status, DNS instructions and diagnoses from the live zone.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    for sub in commands.choices.values():
        sub.set_defaults(command_parser=sub)  # its usage goes with its usage errors
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the only place where an error becomes a message and an exit code."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # argparse leaves these to the top parser, whose usage says nothing of the sub-command's options
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.clients = Clients()  # every client of this command, made on first use, sharing one deadline
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return status_codes.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`saas-domains plan | head`): stop quietly, and keep Python from failing
        # again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return status_codes.OK
    except Exception as err:
        code = report_error(err, args.command, usage=args.command_parser.format_usage())
        if code is None:
            raise
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
