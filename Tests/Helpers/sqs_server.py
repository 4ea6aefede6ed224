"""moto's SQS server on loopback for uptick's queue tests.

usage: sqs_server.py [PORT]
Runs moto's server mode (ThreadedMotoServer, the same as `moto_server`) on 127.0.0.1, on PORT or a free port, and
prints "PORT <n>" once it answers. Stops when stdin closes.
"""
import os
import socket
import sys
import urllib.request

from moto.server import ThreadedMotoServer

if len(sys.argv) > 1:
    port = int(sys.argv[1])
else:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

# SQS_SERVER_LOG=1 logs each request on stderr (the benchmark counts them).
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=os.environ.get("SQS_SERVER_LOG") == "1")
server.start()
# Listening once it answers anything (moto's dashboard route).
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
        break
    except Exception:
        pass
print("PORT", port, flush=True)
sys.stdin.read()
server.stop()
