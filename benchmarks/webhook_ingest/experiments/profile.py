"""Where a request's CPU time goes: one server under closed-loop load, sampled by py-spy.

    python profile.py [--target sqlite|postgres] [--seconds 15] [--out DIR] [-- serve args...]

Starts the server as bench.py does (same environment, payload and load generator), runs the load
generator for `--seconds` with 32 connections while `py-spy record` (pip install py-spy) samples
the server at 250 Hz without pausing it (idle threads left out), then prints the share of samples
per category (`CATEGORIES`: the innermost frame that matches one decides) and, with the server's CPU
time per request (measured as bench.py does), the microseconds per request of each; writes the
collapsed stacks (`profile.txt`, for flamegraph tools) and the summary to `--out`.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench  # noqa: E402 - the benchmark beside this directory

# (category, substrings of a frame "function (file:line)"); the innermost frame that matches decides.
CATEGORIES = [
    ("JSON parse (orjson/json)", ["orjson", "json/decoder.py", "json/__init__.py:loads"]),
    ("JSON shape check", ["json_shape_problem", "structural_bytes", "outside_strings", "nests_deeper_than",
                          "value_nests_deeper_than"]),
    ("signature (HMAC)", ["signature_is_valid", "hmac.py", "githubkit/webhooks/verify"]),
    ("Procrastinate defer", ["procrastinate/"]),
    ("psycopg (driver)", ["psycopg/", "psycopg_pool/"]),
    ("aiosqlite/sqlite3", ["aiosqlite/", "sqlite3"]),
    ("SQLAlchemy", ["sqlalchemy/"]),
    ("delivery recorder (group commit)", ["bot/store/recorder.py", "bot/store/deliveries.py"]),
    ("processing: githubkit/pydantic models", ["pydantic", "githubkit/"]),
    ("processing: dispatch, handlers, outcome", ["bot/handlers/", "bot/engine/"]),
    ("logging/metrics", ["logging/", "prometheus_client", "bot/telemetry/"]),
    ("FastAPI/Starlette", ["fastapi/", "starlette/"]),
    ("webhook endpoint (webhooks/intake.py)", ["webhooks/intake.py"]),
    ("uvicorn + httptools (HTTP)", ["uvicorn/", "httptools"]),
    ("GC", ["<gc>", "gc_collect"]),
    ("asyncio/uvloop event loop", ["asyncio/", "uvloop", "selectors.py", "threading.py", "queue.py"]),
]


def categorize(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):  # innermost first
        for name, needles in CATEGORIES:
            if any(n in frame for n in needles):
                return name
    return "other"


def summarize(collapsed: Path) -> dict[str, float]:
    counts: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            counts[categorize(stack)] += int(n)
    total = sum(counts.values()) or 1
    return {k: round(v / total * 100, 1) for k, v in counts.most_common()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", default="postgres", choices=["sqlite", "postgres"])
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--rate", type=float, default=None, help="open loop at this rate instead of closed loop")
    p.add_argument("--out", default="")
    p.add_argument("--py-spy", default=str(Path(sys.executable).parent / "py-spy"))
    own, _, serve_args = " ".join(sys.argv[1:]).partition(" -- ")
    args = p.parse_args(own.split())
    bargs = bench.parse_args(["--results", ""] + [f"--serve-arg={a}" for a in serve_args.split()])
    out = Path(args.out or tempfile.mkdtemp(prefix="webhook-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="webhook-ingest-") as tmp:
        workdir = Path(tmp)
        bargs.workdir = workdir
        payload = json.loads(bench.FIXTURE.read_text())
        payload["label"]["name"] = bench.TRIGGER_LABEL
        body_path = workdir / "body.json"
        body_path.write_bytes(json.dumps(payload, separators=(",", ":")).encode())
        secret = uuid.uuid4().hex + uuid.uuid4().hex
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        target = bench.Target(name=args.target, kind=args.target)
        bench.start_target(target, bargs, workdir, {"APP_ID": "1", "PRIVATE_KEY": key, "WEBHOOK_SECRET": secret})
        try:
            bench.loadgen(target, bargs, body_path, secret, rate=200, duration=3, prefix="warm-")
            collapsed = out / "profile.txt"
            spy = subprocess.Popen([args.py_spy, "record", "--pid", str(target.proc.pid), "--rate", "250",
                                    "--nonblocking", "--format", "raw", "--output", str(collapsed), "--duration",
                                    str(int(args.seconds) + 2)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)
            run = bench.loadgen(target, bargs, body_path, secret, rate=args.rate, duration=args.seconds,
                                prefix="prof-")
            spy.wait(timeout=60)
        finally:
            bench.stop(target.proc)
    summary = summarize(collapsed)
    per_request = run["server_cpu_ms_per_req"] * 1e3
    result = {"target": args.target, "serve_args": serve_args, "achieved_rps": run["achieved_rps"],
              "p50_ms": run["p50_ms"], "p99_ms": run["p99_ms"], "server_cpu_pct": run["server_cpu_pct"],
              "server_cpu_us_per_request": round(per_request), "other_cpu_pct": run["other_cpu_pct"],
              "share_of_samples_pct": summary,
              "us_per_request": {k: round(v / 100 * per_request, 1) for k, v in summary.items()}}
    (out / "summary.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"collapsed stacks: {collapsed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
