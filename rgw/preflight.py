"""What `rgw run` checks before it touches a delivery, and how it reports a full disk.

The production command never makes up a master key: a key generated on the spot would pseudonymise real persons
under a secret nobody manages, and every pseudonym would change the day key management's real key arrives. So
`rgw run` refuses unless the key comes from `RGW_MASTER_KEY` or `RGW_KEY_FILE`; the one exception is a synthetic
world that `rgw demo` generated (it writes the `.synth` marker and the demo key together), where the demo key it
made is used. Only `rgw demo` makes a demo key.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

import click

from hubcore.paths import HubPaths
from pseudonymisation.key_source import DEMO_MARKER, NoManagedKey, is_demo_world, managed_key_source
from pseudonymisation.keys import KeyStore, KeyStoreError

__all__ = [
    "DEMO_MARKER",
    "PreflightError",
    "disk_full_as_message",
    "disk_full_message",
    "is_demo_world",
    "is_disk_full",
    "make_demo_key",
    "require_production_key",
]
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class PreflightError(click.ClickException):
    """A run that must not start; the message says why and what to do."""

    exit_code = 2


def require_production_key(paths: HubPaths) -> str:
    """Where this run's master key comes from; refuses (PreflightError) when there is no managed key.

    The rule itself is `pseudonymisation.key_source`, shared with the Dagster assets (runs from the UI, a sensor or
    the schedule), so the command and the daemon refuse alike.
    """
    try:
        source = managed_key_source(paths)
    except NoManagedKey as exc:
        raise PreflightError(
            "no master key: set RGW_MASTER_KEY or RGW_KEY_FILE from the municipality's key management. "
            "rgw run never generates a key (only `rgw demo` makes a demo key, for synthetic data)."
        ) from exc
    try:
        KeyStore(paths.keys, allow_demo_key=False).derive("preflight")
    except KeyStoreError as exc:
        raise PreflightError(f"the master key from {source} cannot be used: {exc}") from exc
    return source


def make_demo_key(paths: HubPaths) -> None:
    """`rgw demo` only: make (once) the demo master key of a synthetic world, with its loud warning."""
    KeyStore(paths.keys, allow_demo_key=True).derive("preflight")


def is_disk_full(exc: BaseException) -> bool:
    """A write that failed for lack of space (or a file size limit), however the library wrapped it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        text = str(exc)
        if "No space left on device" in text or "Disk quota exceeded" in text or "File too large" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disk_full_message(exc: BaseException, paths: HubPaths) -> str:
    where = getattr(exc, "filename", None) or paths.data
    return (
        f"the disk is full: writing {where} failed ({exc.strerror if isinstance(exc, OSError) else exc}). "
        "Nothing was half-landed: every zone is written beside its place and renamed in only when whole. "
        "Free space (df -h) and run again; the run goes on where the deliveries stand."
    )


@contextlib.contextmanager
def disk_full_as_message(paths: HubPaths) -> Iterator[None]:
    """Turn a full disk anywhere in a command into one clear error line (exit 2) instead of a traceback."""
    try:
        yield
    except Exception as exc:
        if is_disk_full(exc):
            raise PreflightError(disk_full_message(exc, paths)) from exc
        raise
