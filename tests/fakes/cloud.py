"""The offline cloud with the knobs only tests turn: a stack's last deployment, a core's outputs.

The product's `plan` renders against infra/offline_cloud.py's OfflineCloud as it is; tests subclass
this one further (a renewed CA, tokens per hostname) to see what the program does with other answers.
"""

from __future__ import annotations

from typing import Any

from infra.offline_cloud import OfflineCloud


class FakeCloud(OfflineCloud):
    def __init__(self, deployed_outputs: dict[str, Any] | None = None,
                 core_outputs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._deployed_outputs = deployed_outputs or {}  # the stack's outputs at its last deployment
        self._core_outputs = core_outputs  # what a shard's reference to its core reads; None: a deployed core's

    def deployed_outputs(self) -> dict[str, Any]:
        return self._deployed_outputs

    def outputs_of_core(self) -> dict[str, Any]:
        return super().outputs_of_core() if self._core_outputs is None else self._core_outputs
