"""A/B runs of bench.py: configurations interleaved for R rounds, medians printed.

    python ab.py configs.json ROUNDS out.json -- [bench.py options common to every run]

configs.json is a list of {"label", "bot" (a component-bot command), "targets", "args": [...]}.
Before each run it waits (at most AB_MAX_WAIT seconds, default 300) until the machine has been idle
for 3 seconds: other tenants' load, and the host's own speed, move single runs by 20-30% here.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench.py"


def busy_pct() -> float:
    def sample() -> tuple[int, int]:
        parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return parts[0] + parts[1] + parts[2] + parts[5] + parts[6], sum(parts[:8])
    b0, t0 = sample()
    time.sleep(1)
    b1, t1 = sample()
    return (b1 - b0) / max(t1 - t0, 1) * 100


def wait_quiet(limit: float = float(os.environ.get("AB_MAX_WAIT", 300))) -> None:
    deadline, calm = time.monotonic() + limit, 0
    while time.monotonic() < deadline and calm < 3:
        calm = calm + 1 if busy_pct() < 7.5 else 0


def main() -> int:
    configs = json.loads(Path(sys.argv[1]).read_text())
    rounds, out = int(sys.argv[2]), Path(sys.argv[3])
    common = sys.argv[5:] if len(sys.argv) > 4 and sys.argv[4] == "--" else []
    results: dict[str, list[dict]] = {}
    for r in range(rounds):
        for c in configs:
            wait_quiet()
            raw = out.with_suffix(".last.json")
            subprocess.run([sys.executable, str(BENCH), "--bot", c["bot"], "--targets", c["targets"], "--results", "",
                            "--json", str(raw), "--skip-generator-check", "--label", c["label"], *common,
                            *c.get("args", [])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
            data = json.loads(raw.read_text())
            for name, target in data["targets"].items():
                for phase, v in target["phases"].items():
                    if phase != "warmup":
                        results.setdefault(f"{name} | {phase}", []).append(v | {"host_speed_ms": target["host_speed_ms"]})
                        print(f"  {name} | {phase}: {v['achieved_rps']:.0f} req/s, p50 {v['p50_ms']:.1f} ms, "
                              f"p99 {v['p99_ms']:.1f} ms, errors {v['errors']}, server CPU {v['server_cpu_ms_per_req']:.3f} "
                              f"ms/req, other CPU {v['other_cpu_pct']}%",
                              flush=True)
            out.write_text(json.dumps(results, indent=1))
            print(time.strftime("%H:%M:%S"), "round", r, c["label"], flush=True)
    for key, runs in results.items():
        med = {k: statistics.median(x[k] for x in runs) for k in ("achieved_rps", "p50_ms", "p99_ms",
                                                                  "server_cpu_ms_per_req")}
        print(f"{key}: {med['achieved_rps']:.0f} req/s [{', '.join(str(round(x['achieved_rps'])) for x in runs)}], "
              f"p50 {med['p50_ms']:.1f} ms, p99 {med['p99_ms']:.1f} ms [{', '.join(str(x['p99_ms']) for x in runs)}], "
              f"server CPU {med['server_cpu_ms_per_req']:.3f} ms/req "
              f"[{', '.join(str(x['server_cpu_ms_per_req']) for x in runs)}], "
              f"errors {sum(x['errors'] for x in runs)}, other CPU {[x['other_cpu_pct'] for x in runs]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
