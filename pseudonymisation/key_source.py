"""Where a production run's master key may come from: key management, or the demo key of a synthetic world.

Every path that pseudonymises real deliveries (`rgw run`, and a run Dagster starts from the UI, a sensor or the
schedule) takes its key store from here, never from `KeyStore(...)` with its demo fallback. A key generated on the
spot would pseudonymise real persons under a secret nobody manages, and every pseudonym would change the day key
management's real key arrives. So the key must come from `RGW_MASTER_KEY` or `RGW_KEY_FILE`; the one exception is a
data folder `rgw demo` generated a synthetic Rotterdam into (it writes the `.synth` marker and the demo key
together), where that demo key is used. Only `rgw demo` makes a demo key.
"""

from __future__ import annotations

import os

from hubcore.paths import HubPaths
from pseudonymisation.keys import KeyStore, KeyStoreError

DEMO_MARKER = ".synth"
DEMO_KEY_FILE = "master.key"


class NoManagedKey(KeyStoreError):
    """No master key from key management on a data folder that is not a synthetic demo world."""


def is_demo_world(paths: HubPaths) -> bool:
    """A data folder `rgw demo` generated a synthetic Rotterdam into (never real persons)."""
    return (paths.data / DEMO_MARKER).exists()


def managed_key_source(paths: HubPaths) -> str:
    """Where this folder's master key comes from, in words; raises NoManagedKey when there is none allowed."""
    if os.environ.get("RGW_MASTER_KEY"):
        return "RGW_MASTER_KEY"
    if os.environ.get("RGW_KEY_FILE"):
        return f"RGW_KEY_FILE ({os.environ['RGW_KEY_FILE']})"
    if is_demo_world(paths) and (paths.keys / DEMO_KEY_FILE).exists():
        return f"the demo key of the synthetic world in {paths.data}"
    raise NoManagedKey(
        f"no master key for {paths.data}: set RGW_MASTER_KEY or RGW_KEY_FILE from the municipality's key "
        "management. A production run never generates a key (only `rgw demo` makes a demo key, for synthetic data)."
    )


def production_keystore(paths: HubPaths) -> KeyStore:
    """The key store a run pseudonymises with: refuses (NoManagedKey) rather than fall back to a demo key."""
    managed_key_source(paths)
    return KeyStore(paths.keys, allow_demo_key=False)
