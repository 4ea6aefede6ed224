"""What the results waiting in memory cost: a runner whose commits fail while its claims succeed, up to its bound.

usage: python3 Benchmarks/pending-memory.py [--binary .build/release/uptick] [--monitors 20000] [--interval 10] [--lock 90]

Needs Debian's postgresql (and psql). Starts a PostgreSQL server (Tests/Helpers/postgres_server.py), a TCP target on
127.0.0.1 that accepts and closes, imports N port monitors at one interval and runs `uptick run --http` on them. Once
it commits steadily, another session locks the `checks` table against writes (`LOCK TABLE checks IN SHARE ROW
EXCLUSIVE MODE`) for --lock seconds: claims (which touch `monitors` only) go on, every commit waits for the lock
until its statement timeout (10 s) and fails, so results pile up in memory until the engine's bound (50 000), where
claiming pauses. Then the lock goes and they are committed. Sampled every second: the daemon's RSS (/proc) and
`uptick_results_pending` (/metrics). Prints one JSON object: the samples, the RSS before the lock and at its peak,
the most results pending, and what each one cost. Only 127.0.0.1 is used.
"""
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from postgres_fixture import ENVIRONMENT, add_port_monitors, psql, start_postgres

ARGS = sys.argv[1:]
if "-h" in ARGS or "--help" in ARGS:
    sys.exit(print(__doc__))


def option(name, default):
    return type(default)(ARGS[ARGS.index(name) + 1]) if name in ARGS else default


UPTICK = os.path.abspath(option("--binary", ".build/release/uptick"))
MONITORS = option("--monitors", 20000)
INTERVAL = option("--interval", 10)
LOCK = option("--lock", 90)


def target():
    """A TCP server on 127.0.0.1 that accepts and closes, on a thread of its own; returns its port."""
    ready = threading.Event()
    port = []

    async def serve():
        async def accept(reader, writer):
            writer.close()
        server = await asyncio.start_server(accept, "127.0.0.1", 0, backlog=4096)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()
    ready.wait()
    return port[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def pending(http_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return int(float(re.search(r"^uptick_results_pending (\S+)", text, re.M).group(1)))


def main():
    work = tempfile.mkdtemp(prefix="uptick-pending-")
    server, db_port, url = start_postgres()
    add_port_monitors(UPTICK, url, work, MONITORS, target(), INTERVAL)
    http_port = free_port()
    runner = subprocess.Popen([UPTICK, "run", "--quiet", "--allow-cidr", "127.0.0.1/32", "--db", url, "--http", f"127.0.0.1:{http_port}"],
                              cwd=work, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "run.log"), "w"))
    samples = []
    started = time.time()

    def sample(phase):
        samples.append({"t": round(time.time() - started, 1), "phase": phase, "rss_mb": round(rss_mb(runner.pid), 1),
                        "pending": pending(http_port)})

    # Warm-up: two intervals of steady commits.
    while time.time() - started < 2 * INTERVAL + 5:
        time.sleep(1)
        try:
            sample("before")
        except OSError:
            pass  # the web server is not listening yet
    lock = subprocess.Popen(psql(db_port, "-c", f"BEGIN; LOCK TABLE checks IN SHARE ROW EXCLUSIVE MODE; SELECT pg_sleep({LOCK}); COMMIT;"),
                            env=ENVIRONMENT, stdout=subprocess.DEVNULL)
    while lock.poll() is None:
        time.sleep(1)
        sample("locked")
    released = time.time()
    while time.time() - released < 3 * INTERVAL:
        time.sleep(1)
        sample("after")
    runner.terminate()
    status = runner.wait()
    server.stdin.close()
    server.wait()

    before = [s["rss_mb"] for s in samples if s["phase"] == "before"][-5:]
    baseline = sum(before) / len(before)
    peak = max(s["rss_mb"] for s in samples)
    most = max(s["pending"] for s in samples)
    print(json.dumps({
        "binary": UPTICK, "monitors": MONITORS, "interval_s": INTERVAL, "lock_s": LOCK, "exit": status,
        "rss_before_mb": round(baseline, 1), "rss_peak_mb": peak, "most_pending": most,
        "bytes_per_pending_result": round((peak - baseline) * 1024 * 1024 / most) if most else None,
        "rss_end_mb": samples[-1]["rss_mb"], "pending_end": samples[-1]["pending"],
        "samples": samples,
    }))


if __name__ == "__main__":
    main()
