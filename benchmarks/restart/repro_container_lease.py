"""Reproduction, without processes, of why a restarted container does not take over its dead
predecessor's leases at once (`bench.py --container` measures it: ~58 s instead of < 1 s).

In the Docker image `component-bot serve` is PID 1 of its container, and `docker restart` (or a
restart policy after a crash or the OOM killer) keeps the container's host name: the restarted
process has the same host name and the same pid as the one that held the leases. A lease holder
is `host:pid:process-uuid:wake-uuid`; `holder_alive` compares only the host and the pid, finds its
own pid, and answers "alive" ("another runner of this very process"), so `release_dead_leases`
leaves the lease, and the session waits for it to expire (up to 60 s). Exits 1 while the bug is
there (3bfcfb7); fixed in e8a2361, where a holder names the process's incarnation.

    /work/venv/bin/python benchmarks/restart/repro_container_lease.py
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.engine.runner import holder_alive, holder_name


def main() -> int:
    own = holder_name()
    predecessor = f"{socket.gethostname()}:{os.getpid()}:0123abcd:89abcdef"  # same host, same pid, another process
    print(f"this process's runner: {own}")
    print(f"the dead predecessor's lease holder: {predecessor}")
    alive = holder_alive(predecessor)
    print(f"holder_alive(predecessor) = {alive}: the lease is {'left to expire' if alive else 'taken over at once'}")
    return 1 if alive else 0


if __name__ == "__main__":
    sys.exit(main())
