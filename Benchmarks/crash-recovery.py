"""How long a SIGKILL of `uptick run` leaves monitors unchecked: kill, restart at once, time until every monitor has
been checked again.

usage: python3 Benchmarks/crash-recovery.py [--binary .build/release/uptick] [--monitors 40] [--timeout 10] [--kills 3]

An HTTP target on 127.0.0.1 answers every request after 2 s, so each monitor (interval 1 s) always has a check in
flight, leased, when the daemon is killed. Each round: wait until every monitor has a check committed since the last
restart, SIGKILL, start a new daemon at once, and poll the SQLite file until every monitor has a check that started
after the kill. Prints one JSON object: the seconds from kill to the last monitor's first new check, per round.
Only 127.0.0.1 is used.
"""
import http.server
import json
import os
import signal
import socketserver
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
MONITORS = option("--monitors", 40)
TIMEOUT = option("--timeout", 10)
KILLS = option("--kills", 3)


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(2)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed daemon's connections break mid-request: expected here


target = Server(("127.0.0.1", 0), Slow)
threading.Thread(target=target.serve_forever, daemon=True).start()
port = target.server_address[1]

folder = tempfile.mkdtemp(prefix="uptick-crash-")
db = os.path.join(folder, "uptick.db")
monitors = os.path.join(folder, "monitors.yaml")
with open(monitors, "w") as f:
    f.write("monitors:\n" + "".join(
        f'  - {{key: m{i}, type: http, target: "http://127.0.0.1:{port}/m{i}", interval: 1s, timeout: {TIMEOUT}s}}\n'
        for i in range(MONITORS)))
subprocess.run([BINARY, "migrate", "--db", db], check=True, stdout=subprocess.DEVNULL)
subprocess.run([BINARY, "import", monitors, "--db", db], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start():
    return subprocess.Popen([BINARY, "run", "--db", db, "--quiet", "--allow-cidr", "127.0.0.1/32"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def checked_since(moment):
    with sqlite3.connect(db, timeout=10) as connection:
        return connection.execute("SELECT count(DISTINCT monitor_id) FROM checks WHERE started_at > ?", (moment,)).fetchone()[0]


def now():
    return int(time.time() * 1000)


rounds = []
runner = start()
since = now()
try:
    for _ in range(KILLS):
        while checked_since(since) < MONITORS:
            time.sleep(0.1)
        runner.send_signal(signal.SIGKILL)
        killed = now()
        runner.wait()
        runner = start()
        while checked_since(killed) < MONITORS:
            if now() - killed > 180_000:
                raise SystemExit("monitors not checked again within 180 s")
            time.sleep(0.1)
        with sqlite3.connect(db, timeout=10) as connection:
            slowest = connection.execute("""SELECT max(first) FROM (SELECT min(started_at) AS first FROM checks
                                            WHERE started_at > ? GROUP BY monitor_id)""", (killed,)).fetchone()[0]
        rounds.append(round((slowest - killed) / 1000, 2))
        since = now()
finally:
    runner.send_signal(signal.SIGTERM)
    runner.wait()
print(json.dumps({"binary": BINARY, "monitors": MONITORS, "timeout_s": TIMEOUT, "kill_to_all_checked_s": rounds}))
