#!/usr/bin/env python3
"""Dispatcher + N worker processes against moto on loopback, with a local TCP target (BENCHMARKS.md, issue #12).

usage: Benchmarks/queue-scale-out.py [--workers 1,2,4] [--monitors 3000] [--interval 5] [--seconds 30] [--window 1s]
Needs a release build (swift build -c release --product uptick --product uptick-bench) and moto[server].
For each worker count: a fresh database with MONITORS port monitors every INTERVAL s, one `uptick dispatch` daemon and
N `uptick work` daemons for SECONDS, then everything stopped with SIGTERM. Reports checks/s over the window, slot ->
committed lateness (a reader polls the database every 50 ms and notes when each row appears), SQS requests per 1 000
checks (moto's request log), each worker's peak RSS (VmHWM), and the CPU seconds each process used (moto's share shows
when the test server, not uptick, is the limit). Prints one JSON line per run; the run's logs stay in its directory.
"""
import argparse, json, os, sqlite3, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPTICK = os.path.join(ROOT, ".build/release/uptick")
BENCH = os.path.join(ROOT, ".build/release/uptick-bench")
AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}


def sqs(endpoint, target, body):
    request = urllib.request.Request(endpoint + "/", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + target,
        "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"})
    return json.loads(urllib.request.urlopen(request).read() or b"{}")


def cpu_seconds(pid):
    """User + system CPU time of a live process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else None


def run(workers, monitors, interval, seconds, window):
    work = tempfile.mkdtemp(prefix="uptick-queue-bench-")
    db = os.path.join(work, "uptick.db")
    env = dict(os.environ, **AWS)
    target = subprocess.Popen([BENCH, "serve", "--kind", "tcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(target.stdout.readline())
    moto_log = open(os.path.join(work, "moto.log"), "w")
    moto = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Helpers/sqs_server.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=moto_log, text=True, env=dict(env, SQS_SERVER_LOG="1"))
    line = moto.stdout.readline()
    while not line.startswith("PORT "):
        line = moto.stdout.readline()
    endpoint = "http://127.0.0.1:" + line.split()[1]
    queue = sqs(endpoint, "CreateQueue", {"QueueName": "bench", "Attributes": {"VisibilityTimeout": "60"}})["QueueUrl"]
    subprocess.run([UPTICK, "migrate", "--db", db], check=True, capture_output=True)
    with open(os.path.join(work, "m.yaml"), "w") as f:
        f.write("monitors:\n" + "".join(f"  - key: m{i}\n    name: m{i}\n    type: port\n    target: 127.0.0.1:{port}\n    interval: {interval}s\n"
                                        for i in range(monitors)))
    subprocess.run([UPTICK, "import", os.path.join(work, "m.yaml"), "--db", db], check=True, capture_output=True)
    requests_before = sum(1 for line in open(moto_log.name) if '"POST / ' in line)
    common = ["--db", db, "--queue", queue, "--sqs-endpoint", endpoint]
    started = time.time()
    logs = [open(os.path.join(work, f"worker-{n}.log"), "w") for n in range(workers)]
    procs = [subprocess.Popen([UPTICK, "work", *common, "--quiet", "--allow-cidr", "127.0.0.1/32"], env=env,
                              stdout=subprocess.DEVNULL, stderr=logs[n]) for n in range(workers)]
    dispatcher = subprocess.Popen([UPTICK, "dispatch", *common, "--window", window], env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(work, "dispatcher.log"), "w"))

    lateness, stop = [], threading.Event()

    def watch():
        reader, last = sqlite3.connect(db, timeout=5), 0
        while not stop.is_set():
            now = time.time() * 1000
            for row_id, slot in reader.execute("SELECT id, scheduled_at FROM checks WHERE id > ? ORDER BY id", (last,)):
                lateness.append(now - slot)
                last = row_id
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(seconds)
    rss = []
    for proc in procs:
        with open(f"/proc/{proc.pid}/status") as status:
            rss += [int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM")]
    cpu = {"moto": cpu_seconds(moto.pid), "dispatcher": cpu_seconds(dispatcher.pid), "workers": [cpu_seconds(p.pid) for p in procs]}
    window_end = time.time()
    for proc in [dispatcher] + procs:
        proc.terminate()
    for proc in [dispatcher] + procs:
        proc.wait()
    stop.set()
    watcher.join()
    reader = sqlite3.connect(db)
    # The steady window: from the first slot of the run to its end (start-up excluded).
    checks = reader.execute("SELECT count(*) FROM checks").fetchone()[0]
    first_slot, last_start = reader.execute("SELECT min(scheduled_at), max(started_at) FROM checks").fetchone()
    requests = sum(1 for line in open(moto_log.name) if '"POST / ' in line) - requests_before
    target.stdin.close()
    moto.stdin.close()
    moto.wait()
    return {"workers": workers, "monitors": monitors, "interval_s": interval, "seconds": seconds, "window": window, "checks": checks,
            "checks_per_s": round(checks / ((last_start - first_slot) / 1000), 1) if checks else 0,
            "demand_per_s": round(monitors / interval, 1),
            "lateness_ms_p50": round(percentile(lateness, 0.5) or 0), "lateness_ms_p99": round(percentile(lateness, 0.99) or 0),
            "sqs_requests": requests, "sqs_requests_per_1000_checks": round(requests * 1000 / checks, 1) if checks else None,
            "worker_peak_rss_mb": rss, "wall_s": round(window_end - started, 1), "cpu_s": cpu, "logs": work}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--monitors", type=int, default=3000)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--window", default="1s")
    args = parser.parse_args()
    for count in [int(n) for n in args.workers.split(",")]:
        print(json.dumps(run(count, args.monitors, args.interval, args.seconds, args.window)), flush=True)


if __name__ == "__main__":
    main()
