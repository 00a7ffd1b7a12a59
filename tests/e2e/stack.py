"""A throw-away stack of the real program (the repository's own Pulumi.yaml and __main__.py), driven by
the Pulumi Automation API on a temporary file backend, and destroyed however the test ends."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.e2e.harness import PASSPHRASE, PROJECT_ROOT, E2EConfig

DESTROY_ATTEMPTS = 3
# One `pulumi destroy` must complete: the fallback-origin waiter holds the DNS record back until
# Cloudflare has deleted the fallback origin (API error 1039 otherwise). The retries only clean up;
# a destroy that needed one still fails the run, since that is the regression the waiter prevents.
DESTROY_RETRY_WAIT = 60.0


class TeardownError(AssertionError):
    """The stack could not be destroyed: its resources are still deployed. The message says how to finish."""


def _automation_create_stack(stack_name: str, work_dir: str, env_vars: Mapping[str, str]) -> Any:
    from pulumi import automation

    options = automation.LocalWorkspaceOptions(env_vars=dict(env_vars), secrets_provider="passphrase")
    return automation.create_stack(stack_name, work_dir=work_dir, opts=options)


class ThrowawayStack:
    """deploy() then tear_down(); tear_down() is safe to call whatever deploy() did, and only once needed."""

    def __init__(self, config: E2EConfig, *, environ: Mapping[str, str] | None = None,
                 project_root: Path = PROJECT_ROOT, report: Callable[[str], None] = print,
                 create_stack: Callable[[str, str, Mapping[str, str]], Any] = _automation_create_stack,
                 sleep: Callable[[float], None] = time.sleep, name: str | None = None,
                 destroy_attempts: int = DESTROY_ATTEMPTS, destroy_retry_wait: float = DESTROY_RETRY_WAIT) -> None:
        environ = os.environ if environ is None else environ
        self.config = config
        self.project_root = Path(project_root)
        self.report = report
        self.sleep = sleep
        self.destroy_attempts = destroy_attempts
        self.destroy_retry_wait = destroy_retry_wait
        self.name = name or f"e2e-{secrets.token_hex(4)}"
        self.scratch = Path(tempfile.mkdtemp(prefix=f"saas-domains-{self.name}-"))
        self.customers_file = self.scratch / "customers.yaml"
        self.customers_file.write_text(config.customers_yaml(), encoding="utf-8")
        self.backend_url = config.backend_url or (self.scratch / "state").as_uri()
        if not config.backend_url:
            (self.scratch / "state").mkdir()
        self._passphrase_generated = not (environ.get(PASSPHRASE) or "")
        self.passphrase = environ.get(PASSPHRASE) or secrets.token_urlsafe(32)
        path = environ.get("PATH", os.defpath)
        uv_dir = self.project_root / ".uv" / "bin"
        if (uv_dir / "uv").is_file():
            path = os.pathsep.join([str(uv_dir), path])  # Pulumi runs the program with the uv toolchain
        self.env_vars = {
            "PULUMI_BACKEND_URL": self.backend_url,  # never the team's backend, whatever the shell has
            PASSPHRASE: self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PATH": path,
        }
        self._create_stack = create_stack
        self.stack: Any = None

    @property
    def stack_file(self) -> Path:
        """Pulumi keeps a DIY stack's config (and its passphrase salt) next to Pulumi.yaml."""
        return self.project_root / f"Pulumi.{self.name}.yaml"

    def deploy(self) -> dict[str, Any]:
        from pulumi.automation import ConfigValue

        self.report(f"stack {self.name}: state in {self.backend_url}, customers file {self.customers_file}")
        self.stack = self._create_stack(self.name, str(self.project_root), self.env_vars)
        self.stack.set_all_config({key: ConfigValue(value=value)
                                   for key, value in self.config.stack_config(self.customers_file).items()})
        if self.config.path_config():
            self.stack.set_all_config({key: ConfigValue(value=value)
                                       for key, value in self.config.path_config().items()}, path=True)
        started = time.monotonic()
        result = self.stack.up(color="never", on_output=self.report, on_error=self.report,
                               policy_packs=[self.config.policy_pack] if self.config.policy_pack else None)
        self.report(f"stack {self.name}: up done in {time.monotonic() - started:.0f} s")
        return {key: output.value for key, output in result.outputs.items()}

    def tear_down(self) -> None:
        if self.stack is None:  # creating the stack failed: nothing was deployed
            self._remove_scratch()
            return
        for attempt in range(1, self.destroy_attempts + 1):
            try:
                self.stack.destroy(color="never", on_output=self.report, on_error=self.report)
                break
            except Exception as err:  # the Automation API raises CommandError and its subclasses
                tail = "\n".join(str(err).strip().splitlines()[-15:])
                if attempt == self.destroy_attempts:
                    raise TeardownError(self._recovery(tail)) from err
                self.report(f"stack {self.name}: destroy attempt {attempt} of {self.destroy_attempts} failed; "
                            f"trying again in {self.destroy_retry_wait:.0f} s:\n{tail}")
                self.sleep(self.destroy_retry_wait)
        self.stack.workspace.remove_stack(self.name)
        self.stack_file.unlink(missing_ok=True)
        self.stack = None
        self._remove_scratch()
        self.report(f"stack {self.name}: destroyed and removed")
        if attempt > 1:
            raise TeardownError(f"stack {self.name} was destroyed and removed, but only on destroy attempt {attempt}: "
                                "one `pulumi destroy` must complete (the fallback-origin waiter, docs/operators.md: "
                                "One `pulumi destroy` completes)")

    def _remove_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _recovery(self, tail: str) -> str:
        """What a person needs to destroy the leftovers by hand; the scratch directory is kept."""
        if self._passphrase_generated:
            secret_file = self.scratch / "passphrase"
            secret_file.write_text(self.passphrase, encoding="utf-8")
            secret_file.chmod(0o600)
            passphrase = f"PULUMI_CONFIG_PASSPHRASE_FILE={secret_file}"
        else:
            passphrase = "PULUMI_CONFIG_PASSPHRASE=<the one this run used>"
        return (f"stack {self.name} could not be destroyed after {self.destroy_attempts} attempts; its AWS and "
                f"Cloudflare resources are still deployed. Finish with:\n"
                f"  cd {self.project_root} && PULUMI_BACKEND_URL={self.backend_url} {passphrase} "
                f"pulumi destroy --stack {self.name} --yes && PULUMI_BACKEND_URL={self.backend_url} "
                f"{passphrase} pulumi stack rm {self.name} --yes\n"
                f"(customers file and state kept in {self.scratch})\nlast error:\n{tail}")
