"""A soak of `uptick run`: many monitors for a long while against up, down, slow and hostile targets, sampling the
daemon's RSS, open file descriptors and SQLite file size, to see that they stay flat after warm-up.

usage: python3 Benchmarks/soak.py [--binary .build/release/uptick] [--monitors 100000] [--minutes 30] [--interval 30]
                                  [--sample 30] [--keep 300] [--concurrency 5000] [--csv soak.csv]

Targets, all on 127.0.0.1 and served by this script (asyncio, one thread):
  60 % port checks on a port that accepts and closes (up);
  20 % HTTP checks answered at once with 200 and a small body (up);
  10 % port checks on a closed port (down: refused);
   5 % HTTP checks answered after 8 s (slow, within the 10 s timeout);
   5 % HTTP checks on a hostile server that trickles an endless header, a byte every 200 ms (the 10 s deadline ends them).
Checks older than --keep seconds are deleted every 60 s by `uptick prune` (the daemon's own retention runs hourly), so
the file has a steady state to reach. Prints one CSV line per sample: minute, RSS MB, open fds, database MB, its log (WAL)
MB, checks stored, checks per second since the last sample; then a summary. Only 127.0.0.1 is used.
"""
import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ARGS = sys.argv[1:]
if "-h" in ARGS or "--help" in ARGS:
    sys.exit(print(__doc__))


def option(name, default):
    return type(default)(ARGS[ARGS.index(name) + 1]) if name in ARGS else default


BINARY = os.path.abspath(option("--binary", ".build/release/uptick"))
MONITORS = option("--monitors", 100_000)
MINUTES = option("--minutes", 30.0)
INTERVAL = option("--interval", 30)
SAMPLE = option("--sample", 30)
KEEP = option("--keep", 300)
CONCURRENCY = option("--concurrency", 5000)
CSV = option("--csv", "")


async def accept_and_close(reader, writer):
    writer.close()


async def answer_at_once(reader, writer):
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    writer.close()


async def answer_late(reader, writer):
    try:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(8)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    writer.close()


async def trickle(reader, writer):
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nX-Endless: ")
        for _ in range(100):  # 20 s: longer than any check
            await asyncio.sleep(0.2)
            writer.write(b"a")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    writer.close()


ports = {}
ready = threading.Event()


def serve():
    async def main():
        for name, handler in [("up", accept_and_close), ("http", answer_at_once), ("slow", answer_late), ("hostile", trickle)]:
            server = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=4096)
            ports[name] = server.sockets[0].getsockname()[1]
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


threading.Thread(target=serve, daemon=True).start()
ready.wait()
closed = socket.socket()
closed.bind(("127.0.0.1", 0))
closed_port = closed.getsockname()[1]  # bound, never listening: connections are refused

folder = tempfile.mkdtemp(prefix="uptick-soak-")
db = os.path.join(folder, "uptick.db")
subprocess.run([BINARY, "migrate", "--db", db], check=True, capture_output=True)
lines = ["monitors:"]
for n in range(MONITORS):
    share = n % 20
    if share < 12:
        fields = f'type: port, target: "127.0.0.1:{ports["up"]}"'
    elif share < 16:
        fields = f'type: http, target: "http://127.0.0.1:{ports["http"]}/"'
    elif share < 18:
        fields = f'type: port, target: "127.0.0.1:{closed_port}"'
    elif share < 19:
        fields = f'type: http, target: "http://127.0.0.1:{ports["slow"]}/"'
    else:
        fields = f'type: http, target: "http://127.0.0.1:{ports["hostile"]}/"'
    lines.append(f"  - {{key: s{n}, {fields}, interval: {INTERVAL}s, timeout: 10s}}")
with open(os.path.join(folder, "monitors.yaml"), "w") as f:
    f.write("\n".join(lines) + "\n")
started = time.time()
subprocess.run([BINARY, "import", os.path.join(folder, "monitors.yaml"), "--db", db], check=True, capture_output=True)
print(f"# imported {MONITORS} monitors in {time.time() - started:.1f} s", flush=True)

log = open(os.path.join(folder, "run.log"), "w")
daemon = subprocess.Popen([BINARY, "run", "--db", db, "--quiet", "--allow-cidr", "127.0.0.1/32", "--concurrency", str(CONCURRENCY)],
                          stdout=subprocess.DEVNULL, stderr=log)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def size_mb(suffix=""):
    return os.path.getsize(db + suffix) / 1e6 if os.path.exists(db + suffix) else 0.0


def stored():
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM checks").fetchone()[0]
    finally:
        conn.close()


# Checks counted through the rollups would miss pruned rows; count inserts as max(id) instead.
def inserted():
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT coalesce(max(id), 0) FROM checks").fetchone()[0]
    finally:
        conn.close()


out = open(CSV, "w") if CSV else None
header = "minute,rss_mb,open_fds,db_mb,wal_mb,checks_stored,checks_per_s"
print(header, flush=True)
if out:
    out.write(header + "\n")
samples = []
last_ids, last_time, last_prune = 0, time.time(), time.time()
try:
    while time.time() - started < MINUTES * 60 + 5:
        time.sleep(SAMPLE)
        if daemon.poll() is not None:
            sys.exit(f"the daemon exited ({daemon.returncode}); its log: {folder}/run.log")
        if time.time() - last_prune >= 60:
            subprocess.run([BINARY, "prune", "--db", db, "--older-than", f"{KEEP}s"], capture_output=True)
            last_prune = time.time()
        now = time.time()
        ids = inserted()
        row = ((now - started) / 60, rss_mb(daemon.pid), len(os.listdir(f"/proc/{daemon.pid}/fd")), size_mb(), size_mb("-wal"),
               stored(), (ids - last_ids) / (now - last_time))
        last_ids, last_time = ids, now
        samples.append(row)
        line = "%.1f,%.1f,%d,%.1f,%.1f,%d,%.0f" % row
        print(line, flush=True)
        if out:
            out.write(line + "\n")
finally:
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=60)
    log.close()

warm = [s for s in samples if s[0] >= 5]
if warm:
    def spread(index):
        values = [s[index] for s in warm]
        return min(values), max(values)
    print("# after 5 min: RSS %.1f-%.1f MB, fds %d-%d, database %.1f-%.1f MB, log %.1f-%.1f MB, %.0f-%.0f checks/s (expected %.0f)"
          % (spread(1) + spread(2) + spread(3) + spread(4) + spread(6) + (MONITORS / INTERVAL,)))
# The daemon's log, without the status changes of the down, slow and hostile targets (expected, one per monitor).
with open(os.path.join(folder, "run.log")) as f:
    lines = f.read().splitlines()
changes = [line for line in lines if " is down (was " in line or " is up (was " in line]
others = [line for line in lines if line not in changes]
print(f"# daemon stderr: {len(changes)} status changes; the rest: " + " | ".join(others)[:3000])
print(f"# exit status {daemon.returncode}")
shutil.rmtree(folder)
