"""HTTP/1.1 load generator for signed GitHub webhook deliveries (open or closed loop).

Open loop (`--rate R`): request i is due at start + i/R whatever happened before it, like GitHub's
Hookshot, which does not wait for our previous answer. Latency is measured from the moment the
generator issues the request (within ~1 ms of its due time: uvloop's timers tick per millisecond,
see `scheduler_lag_*`; `p*_from_due_ms` also counts that tick), so time spent waiting for a free
connection (queueing at the server) is counted, not hidden (no coordinated omission); the
connection pool grows up to `--max-connections` when the server falls behind. Closed loop (`--concurrency C` without `--rate`): C keep-alive
connections, each sending its next request when the previous answer arrives; latency is then
the service time, and the achieved rate is the server's maximum throughput.

Every request carries a unique `X-GitHub-Delivery` (a UUID-shaped id: a random per-run prefix and
a counter) and the body's `X-Hub-Signature-256`. Runs are bounded in count and time: a run sends at
most `rate * duration` requests (or stops at `duration` in closed loop), then waits at most
`--grace` seconds for answers still outstanding and counts the rest as timeouts.

Prints one JSON object on stdout. Uses uvloop and httptools (both come with uvicorn[standard]).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import hmac
import json
import math
import sys
import time
import uuid

import httptools

try:
    import uvloop
except ImportError:  # pragma: no cover - the benchmark's venv has it
    uvloop = None

DEFAULT_PATH = "/api/github/webhooks"
clock = time.perf_counter  # uvloop's loop.time() only has 1 ms resolution


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class RequestFactory:
    """Raw request bytes; only the delivery id changes between requests of a run."""

    def __init__(self, host: str, port: int, path: str, event: str, body: bytes, secret: str,
                 prefix: str | None = None) -> None:
        self.body = body
        # "xxxxxxxx-xxxx-4xxx-yxxx-" + 12 hex digits per request: shaped like GitHub's delivery ids
        self.prefix = prefix or str(uuid.uuid4())[:24]
        self.sent = 0
        head = (
            f"POST {path} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "User-Agent: GitHub-Hookshot/bench\r\n"
            "Accept: */*\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-GitHub-Event: {event}\r\n"
            "X-GitHub-Hook-ID: 123456\r\n"
            "X-GitHub-Hook-Installation-Target-Type: integration\r\n"
            "X-GitHub-Hook-Installation-Target-ID: 1\r\n"
            f"X-Hub-Signature-256: {signature(secret, body)}\r\n"
            "X-GitHub-Delivery: "
        )
        self.head = head.encode()

    def next(self) -> tuple[int, bytes]:
        seq = self.sent
        self.sent += 1
        return seq, self.head + f"{self.prefix}{seq:012x}".encode() + b"\r\n\r\n" + self.body


class Connection(asyncio.Protocol):
    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.busy = False
        self.t_ref = 0.0  # when the request was issued (perf_counter)
        self.t_due = 0.0  # open loop: when it was due
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.gen.on_error(self, "bad response")
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.gen.on_lost(self)

    # httptools callbacks
    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        keep_alive = self.parser.should_keep_alive()
        self.gen.on_response(self, status)
        if not keep_alive:
            self.close()

    def send(self, seq: int, data: bytes, t_ref: float, t_due: float) -> None:
        self.busy = True
        self.seq = seq
        self.t_ref = t_ref
        self.t_due = t_due
        self.transport.write(data)

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()


class Generator:
    def __init__(self, args: argparse.Namespace, factory: RequestFactory) -> None:
        self.args = args
        self.factory = factory
        self.loop = asyncio.get_running_loop()
        self.idle: list[Connection] = []
        self.conns: set[Connection] = set()
        self.connecting = 0
        self.queue: collections.deque[tuple[float, float]] = collections.deque()  # (issued, due)
        self.latencies: list[float] = []
        self.latencies_from_due: list[float] = []
        self.statuses: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.sched_lag: list[float] = []
        self.acked: list[int] = []  # counters of the deliveries answered with the expected status
        self.outstanding = 0
        self.sent = 0
        self.first_send = None
        self.last_done = None
        self.closed_loop = args.rate is None
        self.stop_sending_at = math.inf
        self.max_conns_seen = 0
        self.all_done = asyncio.Event()

    async def connect(self) -> Connection | None:
        self.connecting += 1
        try:
            _, conn = await self.loop.create_connection(lambda: Connection(self), self.args.host, self.args.port)
        except OSError as exc:
            self.errors[f"connect: {type(exc).__name__}"] += 1
            return None
        finally:
            self.connecting -= 1
        self.conns.add(conn)
        self.max_conns_seen = max(self.max_conns_seen, len(self.conns))
        return conn

    async def grow(self) -> None:
        conn = await self.connect()
        if conn is not None:
            self.release(conn)
        elif self.queue and not self.conns and not self.connecting:
            # Nothing can be sent at all: fail what is queued rather than hang.
            while self.queue:
                self.queue.popleft()
                self.finish_one()
                self.errors["connect failed"] += 1

    def release(self, conn: Connection) -> None:
        """An idle connection: give it the next request, in closed loop make one."""
        if conn.closed:
            return
        if self.closed_loop:
            if clock() < self.stop_sending_at and self.sent < self.args.max_requests:
                now = clock()
                self.send(conn, (now, now))
            else:
                self.idle.append(conn)
            return
        if self.queue:
            self.send(conn, self.queue.popleft())
        else:
            self.idle.append(conn)

    def send(self, conn: Connection, stamps: tuple[float, float]) -> None:
        if self.first_send is None:
            self.first_send = clock()
        self.sent += 1
        self.outstanding += 1
        conn.send(*self.factory.next(), *stamps)

    def dispatch(self) -> None:
        while self.queue and self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                self.send(conn, self.queue.popleft())
        if self.queue:
            room = self.args.max_connections - len(self.conns) - self.connecting
            for _ in range(min(room, len(self.queue) - self.connecting)):
                self.loop.create_task(self.grow())

    def finish_one(self) -> None:
        self.outstanding -= 1
        self.last_done = clock()
        if self.outstanding <= 0 and not self.queue and self.sending_over():
            self.all_done.set()

    def sending_over(self) -> bool:
        if self.closed_loop:
            return clock() >= self.stop_sending_at or self.sent >= self.args.max_requests
        return self._open_loop_over

    def on_response(self, conn: Connection, status: int) -> None:
        now = clock()
        conn.busy = False
        self.latencies.append(now - conn.t_ref)
        self.latencies_from_due.append(now - conn.t_due)
        self.statuses[str(status)] += 1
        if status == self.args.expect_status:
            self.acked.append(conn.seq)
        self.finish_one()
        self.release(conn)

    def on_error(self, conn: Connection, what: str) -> None:
        if conn.busy:
            conn.busy = False
            self.errors[what] += 1
            self.finish_one()

    def on_lost(self, conn: Connection) -> None:
        self.conns.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)
        if conn.busy:
            conn.busy = False
            self.errors["connection lost"] += 1
            self.finish_one()
        if self.queue:
            self.dispatch()

    async def run(self) -> dict:
        args = self.args
        for conn in await asyncio.gather(*(self.connect() for _ in range(args.preconnect))):
            if conn is not None:
                self.idle.append(conn)
        if not self.conns:
            return {"error": "could not connect", "errors": dict(self.errors)}
        self._open_loop_over = False
        self.cpu0 = time.process_time()
        start = clock() + 0.02
        if self.closed_loop:
            await asyncio.sleep(max(0.0, start - clock()))
            self.stop_sending_at = clock() + args.duration
            idle, self.idle = self.idle, []
            for conn in idle[: args.concurrency]:
                self.release(conn)
            self.idle.extend(idle[args.concurrency:])
            await asyncio.sleep(args.duration)
        else:
            total = min(args.max_requests, int(args.rate * args.duration))
            rate = args.rate
            i = 0
            while i < total:
                now = clock()
                due = min(total, int((now - start) * rate) + 1) if now >= start else 0
                while i < due:
                    t_due = start + i / rate
                    self.sched_lag.append(now - t_due)
                    self.queue.append((now, t_due))
                    i += 1
                self.dispatch()
                if i < total:
                    # uvloop's timers have 1 ms resolution and treat shorter sleeps as 0 (a busy
                    # spin that would steal CPU from the server): wake at most once per ms and
                    # issue everything that has fallen due.
                    await asyncio.sleep(max(0.001, start + i / rate - clock()))
            self._open_loop_over = True
        send_end = clock()
        if self.outstanding > 0 or self.queue:
            try:
                await asyncio.wait_for(self.all_done.wait(), timeout=args.grace)
            except TimeoutError:
                pass
        unfinished = self.outstanding + len(self.queue)
        if unfinished:
            self.errors["timeout (no answer within grace)"] += unfinished
        for conn in list(self.conns):
            conn.close()
        return self.summary(start, send_end, unfinished)

    def summary(self, start: float, send_end: float, unfinished: int) -> dict:
        lat = sorted(self.latencies)
        lat_due = sorted(self.latencies_from_due)
        expected = str(self.args.expect_status)
        ok = self.statuses.get(expected, 0)
        bad_status = sum(n for s, n in self.statuses.items() if s != expected)
        t0 = self.first_send or start
        t1 = self.last_done or send_end
        elapsed = max(t1 - t0, 1e-9)
        return {
            "mode": "closed" if self.closed_loop else "open",
            "offered_rate": self.args.rate,
            "concurrency": self.args.concurrency if self.closed_loop else None,
            "duration_s": round(elapsed, 3),
            "sent": self.sent,
            "completed": len(lat),
            "ok": ok,
            "achieved_rps": round(ok / elapsed, 1),
            "completed_rps": round(len(lat) / elapsed, 1),
            "p50_ms": round(percentile(lat, 50) * 1e3, 3),
            "p90_ms": round(percentile(lat, 90) * 1e3, 3),
            "p99_ms": round(percentile(lat, 99) * 1e3, 3),
            "p999_ms": round(percentile(lat, 99.9) * 1e3, 3),
            "p50_from_due_ms": round(percentile(lat_due, 50) * 1e3, 3),
            "p99_from_due_ms": round(percentile(lat_due, 99) * 1e3, 3),
            "max_ms": round((lat[-1] if lat else math.nan) * 1e3, 3),
            "errors": bad_status + sum(self.errors.values()),
            "statuses": dict(self.statuses),
            "error_kinds": dict(self.errors),
            "unfinished": unfinished,
            "connections_used": self.max_conns_seen,
            "scheduler_lag_p99_ms": round(percentile(sorted(self.sched_lag), 99) * 1e3, 3) if self.sched_lag else None,
            "scheduler_lag_max_ms": round(max(self.sched_lag) * 1e3, 3) if self.sched_lag else None,
            "loadgen_cpu_s": round(time.process_time() - self.cpu0, 3),
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default=DEFAULT_PATH)
    p.add_argument("--body", required=True, help="file holding the request body (signed as is)")
    p.add_argument("--event", default="issues")
    p.add_argument("--secret", required=True)
    p.add_argument("--rate", type=float, help="open loop: requests per second (omit for closed loop)")
    p.add_argument("--concurrency", type=int, default=32, help="closed loop: connections in use")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    p.add_argument("--max-requests", type=int, default=1_000_000, help="hard cap on requests sent")
    p.add_argument("--max-connections", type=int, default=256, help="open loop: connection cap")
    p.add_argument("--preconnect", type=int, default=None, help="connections opened before the clock starts")
    p.add_argument("--grace", type=float, default=10.0, help="seconds to wait for answers after sending ends")
    p.add_argument("--expect-status", type=int, default=202)
    p.add_argument("--acked-file", help="write the delivery ids answered with --expect-status here, one a line")
    p.add_argument("--id-prefix", help="delivery ids are this prefix + a 12-digit hex counter (default: random)")
    args = p.parse_args(argv)
    if args.preconnect is None:
        args.preconnect = args.concurrency if args.rate is None else min(16, args.max_connections)
    return args


async def amain(args: argparse.Namespace, gen_box: list) -> dict:
    with open(args.body, "rb") as f:
        body = f.read()
    factory = RequestFactory(args.host, args.port, args.path, args.event, body, args.secret, args.id_prefix)
    gen = Generator(args, factory)
    gen_box.append(gen)
    return await gen.run()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gen_box: list[Generator] = []
    result = uvloop.run(amain(args, gen_box)) if uvloop is not None else asyncio.run(amain(args, gen_box))
    if args.acked_file and gen_box:
        with open(args.acked_file, "w") as f:
            f.write("\n".join(f"{args.id_prefix or gen_box[0].factory.prefix}{seq:012x}" for seq in gen_box[0].acked))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
