"""`python -m infra` is the `saas-domains` command."""

import sys

from infra.cli import main

sys.exit(main())
