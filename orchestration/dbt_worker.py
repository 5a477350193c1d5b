"""A dbt process started ahead of its build: it pays dbt's imports first, then waits for its command line.

Started by orchestration/dbt_prestart.py as `python -P -m orchestration.dbt_worker` with the environment and working
folder the build will have. It imports what the `dbt` script imports, reads one line from
stdin, a JSON list of the command's arguments, and runs dbt's own command line on them exactly as the `dbt` script
does, writing to the same stdout and exiting with dbt's exit code. An empty stdin (the hub closed it: no build
after all) ends it without running anything. It imports nothing of the hub, so what runs is dbt alone.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    from dbt.cli.main import cli  # the `dbt` script's own import: about a second

    line = sys.stdin.readline()
    if not line.strip():
        return 0
    argv = json.loads(line)
    with open(os.devnull, "rb") as nothing:  # dbt reads no stdin; a fresh dbt would have the hub's, not a pipe
        os.dup2(nothing.fileno(), sys.stdin.fileno())
    sys.argv = [str(a) for a in argv]
    # click names the program after `python -m` when run as a module; the `dbt` script's name is its file's
    return cli(prog_name=os.path.basename(sys.argv[0]))


if __name__ == "__main__":
    sys.exit(main())
