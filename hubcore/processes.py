"""Whether a process still lives: what the gateway's sweep of dead sessions and the recovery of killed runs ask."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True when a process with this id exists (also one of another user's, which we may not signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
