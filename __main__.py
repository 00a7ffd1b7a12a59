"""Entry point of the Pulumi program `saas-domains` (what `pulumi up` runs)."""

from pathlib import Path

from infra.program import build_stack

build_stack(Path(__file__).resolve().parent)
