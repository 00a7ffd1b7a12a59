"""What the commands that read the live zone share on the command line: the chosen stack and the exit codes.

The zone and its stack are infra/operations/zone.py's; this module adds what only the CLI knows (which
stack was chosen and why). Their errors (an invalid customers file, no
token, a failed API call) go up to `main()`, which prints them and exits with the code
infra/cli/status_codes.py gives them.
"""

from __future__ import annotations

import argparse

from infra.cli import status_codes
from infra.cli.project import StackChoice, chosen_stack_settings, find_project_dir, stack_choice
from infra.clients import network_limits
from infra.operations.zone import ZoneStack, load_zone_stack

EXIT_CODES_HELP = (f"Exit codes: {status_codes.OK} fine; {status_codes.PROBLEMS} something needs attention; "
                   f"{status_codes.CANNOT_RUN} cannot run (usage, stack settings, no CLOUDFLARE_API_TOKEN, or the "
                   "Cloudflare API failed). The token comes from CLOUDFLARE_API_TOKEN; CLOUDFLARE_BASE_URL "
                   f"overrides the API address. {network_limits.short_help()}")


def chosen_zone_stack(args: argparse.Namespace) -> tuple[ZoneStack, StackChoice]:
    """The chosen stack with its whole customers file, and how it was chosen (said in every output)."""
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    return load_zone_stack(project_dir, choice.name, chosen_stack_settings(project_dir, choice)), choice

