"""The exit codes of `saas-domains`, defined once with their meaning, for people and CI.

`--help` lists them (see `epilog`), the README's Commands section repeats them word for word
(tests/cli/test_cli_status_codes.py holds both to this table), and only `main()` returns them for an
error; a command returns OK, PROBLEMS or REMOVAL_GUARD for the result it printed.
"""

from __future__ import annotations

OK = 0
PROBLEMS = 1
CANNOT_RUN = 2
REMOVAL_GUARD = 3
INTERRUPTED = 130

MEANINGS: dict[int, str] = {
    OK: "fine: nothing needs attention",
    PROBLEMS: "something needs attention: the customers file is or would become invalid, the program stops, "
              "a hostname or its DNS has a problem, or records are not published yet",
    CANNOT_RUN: "cannot run: usage, no project or stack settings, a git revision missing, no "
                "CLOUDFLARE_API_TOKEN or GITHUB_TOKEN, the Cloudflare or GitHub API failed or the resolver does "
                "not answer",
    REMOVAL_GUARD: "`diff` and `validate` only: the change removes more hostnames than allowed without "
                   "confirmation",
    INTERRUPTED: "interrupted (Ctrl-C)",
}


def epilog() -> str:
    """The exit codes as `saas-domains --help` ends: one line each."""
    return "exit codes:\n" + "\n".join(f"  {code:<3}  {meaning}" for code, meaning in MEANINGS.items())
