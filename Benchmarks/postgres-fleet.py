"""Several `uptick run` processes on one PostgreSQL: every slot once, lateness, and what a SIGKILL costs.

usage: python3 Benchmarks/postgres-fleet.py [--runners 4] [--monitors 10000] [--interval 10] [--seconds 120] [--kill-at 60]

Needs a release build (`swift build -c release`) and Debian's postgresql. Starts a durable PostgreSQL server
(Tests/Helpers/postgres_server.py --durable: fsync and synchronous_commit on), a TCP target (`uptick-bench serve`),
imports N port monitors at one interval, runs the runners for the given time, kills the last runner with SIGKILL at
--kill-at seconds, then stops the others with SIGTERM and reads the database:

- slots: every slot once means no gap between a monitor's consecutive checks (no duplicate can be stored, so a
  missed slot is a gap); the gaps across the kill are the killed runner's monitors, every other gap is reported;
- lateness: started_at - scheduled_at over every check (p50 / p99 / max);
- recovery: for the monitors the killed runner held (their checks around the kill more than an interval apart), the
  time from the kill to their next check by another runner;
- deadlocks: pg_stat_database.deadlocks; CPU of each runner and of the server's processes (from /proc).
Prints one JSON object. Only 127.0.0.1 is used.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from postgres_fixture import ENVIRONMENT, ROOT, add_port_monitors, psql, start_postgres

ARGS = sys.argv[1:]
if "-h" in ARGS or "--help" in ARGS:
    sys.exit(print(__doc__))


def option(name, default):
    return type(default)(ARGS[ARGS.index(name) + 1]) if name in ARGS else default


RUNNERS = option("--runners", 4)
MONITORS = option("--monitors", 10000)
INTERVAL = option("--interval", 10)
SECONDS = option("--seconds", 120)
KILL_AT = option("--kill-at", 60)
UPTICK = os.path.join(ROOT, ".build/release/uptick")
BENCH = os.path.join(ROOT, ".build/release/uptick-bench")


def cpu_seconds(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def postgres_cpu():
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() == "postgres":
                    total += cpu_seconds(entry)
            except OSError:
                pass
    return total


def main():
    work = tempfile.mkdtemp(prefix="uptick-fleet-")
    server, port, url = start_postgres("--durable")
    target = subprocess.Popen([BENCH, "serve", "--kind", "tcp"], stdout=subprocess.PIPE, text=True)
    target_port = int(target.stdout.readline().strip())

    def sql(query):
        return subprocess.run(psql(port, "-c", query), env=ENVIRONMENT, check=True, capture_output=True, text=True).stdout.strip()

    add_port_monitors(UPTICK, url, work, MONITORS, target_port, INTERVAL)

    runners = []
    for index in range(RUNNERS):
        runners.append(subprocess.Popen([UPTICK, "run", "--quiet", "--allow-cidr", "127.0.0.1/32", "--db", url], cwd=work,
                                        env={**os.environ, "UPTICK_RUNNER_ID": f"runner-{index}"},
                                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"runner-{index}.log"), "w")))
    server_cpu_start = postgres_cpu()
    started = time.time()
    time.sleep(KILL_AT)
    victim = runners[-1]
    victim_cpu = cpu_seconds(victim.pid)
    victim.send_signal(signal.SIGKILL)
    killed_at = int(time.time() * 1000)
    victim.wait()
    time.sleep(max(0, SECONDS - KILL_AT))
    runner_cpu = [cpu_seconds(r.pid) for r in runners[:-1]] + [victim_cpu]
    server_cpu = postgres_cpu() - server_cpu_start
    wall = time.time() - started
    for runner in runners[:-1]:
        runner.send_signal(signal.SIGTERM)
    statuses = [runner.wait() for runner in runners[:-1]]
    end = int(time.time() * 1000)

    lateness = sql("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY started_at - scheduled_at), "
                   "percentile_disc(0.99) WITHIN GROUP (ORDER BY started_at - scheduled_at), max(started_at - scheduled_at) FROM checks").split("|")
    # The monitors the victim held at the kill (claimed, in flight or waiting for its commit): their checks around
    # the kill are more than an interval apart. Recovery: from the kill to their next check by another runner.
    held = f"""
        WITH last AS (SELECT monitor_id, max(started_at) AS at FROM checks WHERE started_at < {killed_at} GROUP BY monitor_id),
        next AS (SELECT monitor_id, min(started_at) AS at FROM checks WHERE started_at >= {killed_at} GROUP BY monitor_id),
        waiting AS (SELECT monitor_id, next.at - {killed_at} AS recovery FROM last LEFT JOIN next USING (monitor_id)
                    WHERE next.at IS NULL OR next.at - last.at > {INTERVAL * 1000 + 2000})
        SELECT count(*), coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY recovery), -1), coalesce(max(recovery), -1),
               count(*) FILTER (WHERE recovery IS NULL), coalesce(min(recovery), -1) FROM waiting"""
    recovered = sql(held).split("|")
    # Missed slots anywhere else: gaps between consecutive checks of a monitor that do not span the kill.
    gaps = sql(f"""
        SELECT count(DISTINCT monitor_id), coalesce(sum((scheduled_at - previous) / {INTERVAL * 1000} - 1), 0) FROM (
            SELECT monitor_id, scheduled_at, started_at, lag(scheduled_at) OVER (PARTITION BY monitor_id ORDER BY scheduled_at) AS previous,
                   lag(started_at) OVER (PARTITION BY monitor_id ORDER BY scheduled_at) AS previous_start
            FROM checks) s
        WHERE previous IS NOT NULL AND scheduled_at - previous > {INTERVAL * 1000}
          AND NOT (previous_start < {killed_at} AND started_at >= {killed_at})""").split("|")
    rows = int(sql("SELECT count(*) FROM checks"))
    result = {
        "runners": RUNNERS, "monitors": MONITORS, "interval_s": INTERVAL, "seconds": round(wall, 1), "kill_at_s": KILL_AT,
        "checks": rows, "checks_per_s": round(rows / wall, 1), "expected_per_s": MONITORS / INTERVAL,
        "per_runner": {r: int(c) for r, c in (line.split("|") for line in sql("SELECT runner, count(*) FROM checks GROUP BY runner ORDER BY runner").splitlines())},
        "lateness_ms": {"p50": int(lateness[0]), "p99": int(lateness[1]), "max": int(lateness[2])},
        "other_monitors_with_gaps": int(gaps[0]), "other_missed_slots": int(gaps[1]),
        "killed_runner_monitors_waiting": int(recovered[0]),
        "recovery_ms": {"min": int(recovered[4]), "p50": int(recovered[1]), "max": int(recovered[2])},
        "never_recovered": int(recovered[3]),
        "deadlocks": int(sql("SELECT deadlocks FROM pg_stat_database WHERE datname = 'postgres'")),
        "runner_cpu_share_of_machine": [round(c / wall / os.cpu_count(), 3) for c in runner_cpu],
        "server_cpu_share_of_machine": round(server_cpu / wall / os.cpu_count(), 3),
        "exit_statuses": statuses,
        "unfinished_leases_at_end": int(sql(f"SELECT count(*) FROM monitors WHERE lease_until > {end}")),
    }
    print(json.dumps(result, indent=1))
    target.terminate()
    server.stdin.close()
    server.wait()


if __name__ == "__main__":
    main()
