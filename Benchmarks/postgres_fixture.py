"""What the PostgreSQL benchmarks share: a server of their own, psql on it, and a catalogue of port monitors.

Imported by postgres-fleet.py and pending-memory.py (run as `python3 Benchmarks/NAME.py`, so this folder is on the path).
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRONMENT = {**os.environ, "PGPASSWORD": "uptick-test"}


def start_postgres(*flags):
    """Starts Tests/Helpers/postgres_server.py with `flags` (stopped when the process's stdin closes).
    Returns the process, its port and uptick's `--db` URL for it."""
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Helpers/postgres_server.py"), *flags],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    return server, port, f"postgres://uptick:uptick-test@127.0.0.1:{port}/postgres?sslmode=disable"


def psql(port, *arguments):
    """The psql command line for the server on `port` (run it with ENVIRONMENT)."""
    return ["psql", "-At", "-h", "127.0.0.1", "-p", str(port), "-U", "uptick", "-d", "postgres", *arguments]


def add_port_monitors(uptick, url, work, count, target_port, interval):
    """Migrates the database at `url` and imports `count` port monitors on 127.0.0.1:`target_port`, every `interval` s."""
    subprocess.run([uptick, "migrate", "--db", url], check=True, stdout=subprocess.DEVNULL)
    monitors = os.path.join(work, "monitors.yaml")
    with open(monitors, "w") as f:
        f.write("monitors:\n")
        for n in range(count):
            f.write(f'  - {{key: m{n}, type: port, target: "127.0.0.1:{target_port}", interval: {interval}s, timeout: 5s}}\n')
    subprocess.run([uptick, "import", monitors, "--db", url], check=True, stdout=subprocess.DEVNULL)
