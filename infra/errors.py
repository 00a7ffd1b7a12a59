"""The roots of every error saas-domains raises on purpose, one per kind, as pip's `exceptions.py`.

Each layer defines its own errors under one of these roots (the clients a ClientError, an operation an
OperationError, the stack files a StackFilesError, the model a SettingsError or a CustomersFileError,
which stay ValueErrors). The command line's `main()` alone turns them into a message and an exit code,
by root, never by probing which modules are loaded; anything that is not a SaasDomainsError is a bug
and keeps its traceback. This module imports nothing, so every layer may import it.
"""

from __future__ import annotations


class SaasDomainsError(Exception):
    """Ours: the message is a sentence for a person, saying what failed and what to do."""


class ClientError(SaasDomainsError):
    """A service or the network did not give a usable answer, or a client's settings are unusable
    (a missing token, a limit that is not a number): infra/clients/."""


class OperationError(SaasDomainsError):
    """An operation cannot go on with what it was given (a report file, a grouping rule): infra/operations/."""


class ProgramError(SaasDomainsError):
    """The Pulumi program stopped with an error (as `pulumi up` would report it) before or while declaring."""

    headline = "The program stopped; it declares nothing:"


class InputInvalid(SaasDomainsError):
    """The input has problems, so there is no result: a headline, then the problems, one a line.
    `about_the_base`: the problems are the base revision's, not the change's (said as a note)."""

    def __init__(self, headline: str, problems: str, *, about_the_base: bool = False) -> None:
        super().__init__(f"{headline}\n{problems}")
        self.headline, self.problems, self.about_the_base = headline, problems, about_the_base
