"""A loopback HTTP server that checks AWS SigV4 signatures with botocore's own signer, for uptick's signer tests.

usage: sigv4_server.py ACCESS_KEY SECRET_KEY REGION SERVICE [SESSION_TOKEN]
For every request it rebuilds the signature from the request as received (the headers the client says it signed,
its X-Amz-Date, the body) with botocore.auth.SigV4Auth, and answers 200 "{}" when it matches, else 403 with an
SQS-style SignatureDoesNotMatch error. Prints "PORT <n>" once listening, then one JSON line per request:
{"target", "match", "token"}. Stops when stdin closes.
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS, SECRET, REGION, SERVICE = sys.argv[1:5]
TOKEN = sys.argv[5] if len(sys.argv) > 5 else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        authorization = self.headers.get("Authorization", "")
        match = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                         r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", authorization)
        ok = False
        if match and match.group(1) == ACCESS and match.group(3) == REGION and match.group(4) == SERVICE:
            signed = match.group(5).split(";")
            headers = {name: self.headers.get(name) for name in signed if self.headers.get(name) is not None}
            request = AWSRequest(method="POST", url=f"http://{self.headers['Host']}{self.path}", data=body, headers=headers)
            request.context["timestamp"] = self.headers.get("X-Amz-Date", "")
            auth = SigV4Auth(Credentials(ACCESS, SECRET, TOKEN), SERVICE, REGION)
            canonical = auth.canonical_request(request)
            expected = auth.signature(auth.string_to_sign(request, canonical), request)
            ok = expected == match.group(6) and len(headers) == len(signed)
        print(json.dumps({"target": self.headers.get("X-Amz-Target"), "match": ok,
                          "token": self.headers.get("X-Amz-Security-Token")}), flush=True)
        answer = b"{}" if ok else json.dumps({"__type": "com.amazonaws.sqs#SignatureDoesNotMatch",
                                              "message": "The request signature does not match"}).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("PORT", server.server_address[1], flush=True)
sys.stdin.read()
server.shutdown()
