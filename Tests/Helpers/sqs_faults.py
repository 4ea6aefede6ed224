"""A fault-injecting proxy in front of an SQS-compatible server, for uptick's dispatcher tests.

usage: sqs_faults.py UPSTREAM_PORT ENTRY_ID [ENTRY_ID ...]
Forwards every request to 127.0.0.1:UPSTREAM_PORT unchanged, except SendMessageBatch: the entries with the given ids
get "DelaySeconds": 1800, which SQS (and moto) refuse per entry, so the upstream answers with a real partial batch
failure for exactly those entries. Prints "PORT <n>" once listening. Stops when stdin closes.
"""
import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = int(sys.argv[1])
FAIL = set(sys.argv[2:])


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("X-Amz-Target") == "AmazonSQS.SendMessageBatch":
            request = json.loads(body)
            for entry in request.get("Entries", []):
                if entry.get("Id") in FAIL:
                    entry["DelaySeconds"] = 1800
            body = json.dumps(request).encode()
        headers = {name: value for name, value in self.headers.items() if name.lower() not in ("content-length", "host", "connection")}
        forwarded = urllib.request.Request(f"http://127.0.0.1:{UPSTREAM}{self.path}", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(forwarded) as response:
                status, answer, kind = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, answer, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("PORT", server.server_address[1], flush=True)
sys.stdin.read()
server.shutdown()
