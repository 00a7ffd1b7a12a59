"""Reading resource properties that may be unknown during a preview, and the listener facts
several policies read.

Every check goes through `_get`/`_items`, which turn a value unknown during a preview (an ARN, an
ALB DNS name) into `UNKNOWN` instead of letting pulumi-policy's `UnknownValueError` abort the
whole policy: a check that cannot be decided yet is skipped, and runs again at `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
_UNKNOWN_SENTINELS = frozenset({UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE,
                                UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE})


def _known(value: Any) -> Any:
    return UNKNOWN if isinstance(value, str) and value in _UNKNOWN_SENTINELS else value


def _get(value: Any, *path: str | int) -> Any:
    """`value[path[0]][path[1]]...`: None when absent, UNKNOWN when not known yet."""
    for key in path:
        if value is None or value is UNKNOWN:
            return value
        try:
            if isinstance(key, int):
                if not _is_list(value) or not -len(value) <= key < len(value):
                    return None
                value = value[key]
            else:
                if not isinstance(value, Mapping) or key not in value:
                    return None
                value = value[key]
        except UnknownValueError:
            return UNKNOWN
        value = _known(value)
    return value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _items(value: Any) -> list[Any]:
    """The elements of a list property (unknown ones as UNKNOWN); [] for None, UNKNOWN or a non-list."""
    if not _is_list(value):
        return []
    result = []
    for index in range(len(value)):
        try:
            result.append(_known(value[index]))
        except UnknownValueError:
            result.append(UNKNOWN)
    return result


def _name(value: Any) -> Any:
    """A DNS name compared the way DNS compares it: lower case, no final dot, A-labels."""
    if not isinstance(value, str):
        return value
    name = value.strip().lower().rstrip(".")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")  # IDNA 2003 is enough to compare names here
        except UnicodeError:
            pass
    return name


def _in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _config(args: ResourceValidationArgs | StackValidationArgs) -> Mapping[str, Any]:
    try:
        return args.get_config() or {}
    except Exception:  # noqa: BLE001 (a pack without config must still run)
        return {}


def _listener_protocol(props: Mapping[str, Any]) -> Any:
    protocol = _get(props, "protocol")
    return protocol.upper() if isinstance(protocol, str) else protocol


def _forwards(action: Any) -> bool:
    """True when an ALB action sends the request to a target group."""
    if action is UNKNOWN or not isinstance(action, Mapping):
        return False
    return _get(action, "type") == "forward" or _get(action, "forward") not in (None, UNKNOWN)


def _forwards_by_default(listener_props: Mapping[str, Any]) -> bool:
    return any(_forwards(action) for action in _items(_get(listener_props, "defaultActions")))


def _verifies_client_certificates(listener_props: Mapping[str, Any]) -> bool:
    """ALB mutual TLS in verify mode (Authenticated Origin Pulls); passthrough and off verify nothing."""
    return _get(listener_props, "mutualAuthentication", "mode") == "verify"
