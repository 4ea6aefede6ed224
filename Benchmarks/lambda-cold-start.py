"""Cold start of the Lambda bootstrap: time from starting the process to its first
GET /2018-06-01/runtime/invocation/next, against a minimal Runtime API on 127.0.0.1.

usage: python3 Benchmarks/lambda-cold-start.py build/lambda/bootstrap [runs]
The function's configuration: a fresh migrated SQLite file (UPTICK_DB), so start-up includes opening it.
"""
import os, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

binary = os.path.abspath(sys.argv[1])
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
first_poll = threading.Event()


class Runtime(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        first_poll.set()  # no invocation is handed out: the process is stopped right after


server = ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
threading.Thread(target=server.serve_forever, daemon=True).start()
with tempfile.TemporaryDirectory() as directory:
    db = os.path.join(directory, "uptick.db")
    subprocess.run([binary, "migrate", "--db", db], check=True, stdout=subprocess.DEVNULL)
    link = os.path.join(directory, "bootstrap")
    os.symlink(binary, link)
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % server.server_address[1], UPTICK_DB=db)
    results = []
    for _ in range(runs):
        first_poll.clear()
        start = time.monotonic()
        process = subprocess.Popen([link], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not first_poll.wait(10):
            process.kill()
            sys.exit("no request for an invocation within 10 s")
        results.append((time.monotonic() - start) * 1000)
        process.kill()
        process.wait()
    results.sort()
    print("cold start (process start to first /next): min %.1f ms, median %.1f ms, max %.1f ms over %d runs"
          % (results[0], results[len(results) // 2], results[-1], runs))
