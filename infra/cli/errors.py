"""The one error path of the command line: commands raise, `main()` prints one message and exits.

A command never turns an error into an exit code itself. It raises a CommandError (adding what
only it knows, e.g. which revision of which file), or lets the error of a lower layer through: every
error of ours has a root in infra/errors.py, and `as_command_error` maps those roots, and only those,
to a message and a status code. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import TextIO

from infra.cli import status_codes
from infra.cli.terminal import style
from infra.errors import InputInvalid, ProgramError, SaasDomainsError
from infra.model.customers import CustomersFileError


class CommandError(SaasDomainsError):
    """Stops a command: `saas-domains <command>: <message>` on stderr, and the exit code."""

    code = status_codes.CANNOT_RUN

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def render(self, command: str, stream: TextIO) -> str:
        return f"saas-domains {command}: {self}"


class UsageError(CommandError):
    """The arguments are wrong (a value out of range, options that do not fit together): as argparse says it,
    the sub-command's usage first, then `saas-domains <command>: error: <message>`; exit 2."""

    def render(self, command: str, stream: TextIO) -> str:
        return f"saas-domains {command}: error: {self}"


class SetupError(CommandError):
    """The command cannot run: no project, no such stack, unreadable settings, a missing git revision."""


class InputProblems(CommandError):
    """The input has problems, so there is no result: a coloured headline, then the problems listed."""

    code = status_codes.PROBLEMS

    def __init__(self, headline: str, problems: str, colour: str = "red") -> None:
        super().__init__(f"{headline}\n{problems}")
        self.headline, self.problems, self.colour = headline, problems, colour

    def render(self, command: str, stream: TextIO) -> str:
        return f"{style(self.headline, self.colour, stream)}\n{self.problems}"


def as_command_error(err: Exception) -> CommandError | None:
    """The error as the user sees it; None for anything unexpected (a bug: keep its traceback)."""
    if isinstance(err, CommandError):
        return err
    if isinstance(err, CustomersFileError):
        return CommandError(f"the customers file is invalid; fix it first (`saas-domains validate`):\n{err}",
                            status_codes.PROBLEMS)
    if isinstance(err, ProgramError):
        return InputProblems(ProgramError.headline, str(err))
    if isinstance(err, InputInvalid):
        return InputProblems(err.headline, err.problems, colour="yellow" if err.about_the_base else "red")
    if isinstance(err, SaasDomainsError):  # a client, an operation, the stack files or settings: cannot run
        return CommandError(str(err))
    return None


def report_error(err: Exception, command: str, stream: TextIO | None = None, usage: str = "") -> int | None:
    """Print the error's one message and return its exit code; None when it is not one of ours.

    `usage` is the sub-command's usage line, printed before a UsageError as argparse prints it."""
    failure = as_command_error(err)
    if failure is None:
        return None
    stream = stream or sys.stderr
    message = failure.render(command, stream)
    if isinstance(failure, UsageError) and usage:
        message = usage.rstrip("\n") + "\n" + message
    print(message, file=stream)
    return failure.code
