"""A small Hrana-over-HTTP server (libSQL's remote protocol) over a real SQLite file, for uptick's tests.

No libSQL server (sqld) can be installed here, so this implements the part of the published Hrana 2/3
spec that a client uses: POST /v2/pipeline and /v3/pipeline with JSON bodies, `execute`, `batch` with
step conditions (ok, error, not, and, or, is_autocommit), `sequence`, `get_autocommit` and `close`,
batons (streams that stay open between requests, each with its own SQLite connection), typed values
(integers as strings, blobs as base64), bearer-token authentication, HTTP/1.1 keep-alive.

usage: libsql_server.py DB_PATH [--token T] [--busy-ms N] [--delay-ms N] [--fail-first N]
  --busy-ms: SQLite busy timeout of the server's connections (default 5000)
  --delay-ms: sleep this long before answering each pipeline request (a network's latency)
  --fail-first: answer the first N pipeline requests with 503 (to test retries)
Prints "PORT <n>" once listening. GET /stats returns {"pipelines": n, "connections": n}. GET /fault/MODE sets how
pipeline requests are answered from then on: "none" (normally), "503" (HTTP 503, nothing run), "cut" (run, then the
connection is closed half-way through the answer's body: a lost acknowledgement), "hang" (nothing run, no answer until
the mode changes, then the connection is closed). Stops when stdin closes.
"""
import base64
import json
import secrets
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB_PATH = sys.argv[1]
ARGS = sys.argv[2:]


def option(name, default=None):
    return ARGS[ARGS.index(name) + 1] if name in ARGS else default


TOKEN = option("--token")
DELAY = int(option("--delay-ms", "0")) / 1000
BUSY = int(option("--busy-ms", "5000")) / 1000
FAIL_FIRST = int(option("--fail-first", "0"))

lock = threading.Lock()
fault = "none"
fault_changed = threading.Condition(lock)
streams = {}  # baton -> sqlite3 connection
counters = {"pipelines": 0, "connections": 0}


class HranaError(Exception):
    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        self.code = code


def connect():
    conn = sqlite3.connect(DB_PATH, timeout=BUSY, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def decode_value(value):
    kind = value["type"]
    if kind == "null":
        return None
    if kind == "integer":
        return int(value["value"])
    if kind == "float":
        return float(value["value"])
    if kind == "text":
        return value["value"]
    if kind == "blob":
        return base64.b64decode(value["base64"])
    raise HranaError("unknown value type %r" % kind, "PROTOCOL")


def encode_value(value):
    if value is None:
        return {"type": "null"}
    if isinstance(value, int):
        return {"type": "integer", "value": str(value)}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    if isinstance(value, bytes):
        return {"type": "blob", "base64": base64.b64encode(value).decode()}
    return {"type": "text", "value": value}


def error_code(exc):
    text = str(exc)
    if "locked" in text or "busy" in text:
        return "SQLITE_BUSY"
    if isinstance(exc, sqlite3.IntegrityError):
        return "SQLITE_CONSTRAINT"
    return "SQLITE_ERROR"


def execute(conn, stmt):
    if "sql" not in stmt or stmt["sql"] is None:
        raise HranaError("sql_id is not supported by this test server", "PROTOCOL")
    args = [decode_value(v) for v in stmt.get("args", [])]
    try:
        cursor = conn.execute(stmt["sql"], args)
        rows = cursor.fetchall() if cursor.description else []
    except sqlite3.Error as exc:
        raise HranaError(str(exc), error_code(exc))
    cols = [{"name": d[0], "decltype": None} for d in (cursor.description or [])]
    if stmt.get("want_rows") is False:
        rows = []
    return {
        "cols": cols,
        "rows": [[encode_value(v) for v in row] for row in rows],
        "affected_row_count": max(cursor.rowcount, 0),
        "last_insert_rowid": str(cursor.lastrowid) if cursor.lastrowid is not None else None,
    }


def condition(cond, results, errors, conn):
    kind = cond["type"]
    if kind == "ok":
        return results[cond["step"]] is not None
    if kind == "error":
        return errors[cond["step"]] is not None
    if kind == "not":
        return not condition(cond["cond"], results, errors, conn)
    if kind == "and":
        return all(condition(c, results, errors, conn) for c in cond["conds"])
    if kind == "or":
        return any(condition(c, results, errors, conn) for c in cond["conds"])
    if kind == "is_autocommit":
        return not conn.in_transaction
    raise HranaError("unknown condition %r" % kind, "PROTOCOL")


def batch(conn, steps):
    results = [None] * len(steps)
    errors = [None] * len(steps)
    for index, step in enumerate(steps):
        if step.get("condition") is not None and not condition(step["condition"], results, errors, conn):
            continue
        try:
            results[index] = execute(conn, step["stmt"])
        except HranaError as exc:
            errors[index] = {"message": exc.message, "code": exc.code}
    return {"step_results": results, "step_errors": errors}


def run_request(conn, request):
    kind = request["type"]
    if kind == "execute":
        return {"type": "execute", "result": execute(conn, request["stmt"])}
    if kind == "batch":
        return {"type": "batch", "result": batch(conn, request["batch"]["steps"])}
    if kind == "sequence":
        try:
            conn.executescript(request["sql"])
        except sqlite3.Error as exc:
            raise HranaError(str(exc), error_code(exc))
        return {"type": "sequence"}
    if kind == "get_autocommit":
        return {"type": "get_autocommit", "is_autocommit": not conn.in_transaction}
    if kind == "close":
        return {"type": "close"}
    raise HranaError("unsupported request %r" % kind, "PROTOCOL")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with lock:
            counters["connections"] += 1

    def reply(self, status, body, cut=False):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(data)

    def do_GET(self):
        if self.path in ("/v2", "/v3"):
            self.reply(200, {})
        elif self.path == "/stats":
            with lock:
                self.reply(200, dict(counters))
        elif self.path.startswith("/fault/") and self.path[7:] in ("none", "503", "cut", "hang"):
            global fault
            with lock:
                fault = self.path[7:]
                fault_changed.notify_all()
            self.reply(200, {"fault": fault})
        else:
            self.reply(404, {"message": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path not in ("/v2/pipeline", "/v3/pipeline"):
            return self.reply(404, {"message": "not found"})
        if TOKEN is not None and self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.reply(401, {"message": "Unauthorized: bad or missing token", "code": "UNAUTHORIZED"})
        with lock:
            counters["pipelines"] += 1
            count = counters["pipelines"]
        if DELAY:
            time.sleep(DELAY)
        if count <= FAIL_FIRST:
            return self.reply(503, {"message": "try again later"})
        with lock:
            mode = fault
            if mode == "hang":
                fault_changed.wait_for(lambda: fault != "hang")
        if mode == "hang":
            self.close_connection = True
            return
        if mode == "503":
            return self.reply(503, {"message": "service unavailable (a fault set by the test)"})
        try:
            request = json.loads(body)
        except ValueError:
            return self.reply(400, {"message": "body is not JSON", "code": "PROTOCOL"})
        baton = request.get("baton")
        with lock:
            conn = streams.pop(baton, None) if baton else connect()
        if conn is None:
            return self.reply(400, {"message": "unknown or expired baton", "code": "STREAM_EXPIRED"})
        results = []
        closed = False
        for item in request.get("requests", []):
            try:
                results.append({"type": "ok", "response": run_request(conn, item)})
                closed = closed or item["type"] == "close"
            except HranaError as exc:
                results.append({"type": "error", "error": {"message": exc.message, "code": exc.code}})
        if closed:
            conn.close()
            next_baton = None
        else:
            next_baton = secrets.token_urlsafe(16)
            with lock:
                streams[next_baton] = conn
        self.reply(200, {"baton": next_baton, "base_url": None, "results": results}, cut=mode == "cut")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT %d" % server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
