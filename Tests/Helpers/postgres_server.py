"""A real PostgreSQL server for uptick's tests: Debian's `postgresql` binaries, a fresh cluster in a temporary
folder, listening on 127.0.0.1 only, stopped (and removed) when this helper's stdin closes.

usage: postgres_server.py [--port N] [--tls DIR] [--read-only] [--durable]
  --port: listen there (default: a free port)
  --tls: also serve TLS with a certificate for localhost and 127.0.0.1 signed by a new CA; the CA's certificate
         is written to DIR/ca.pem, and a certificate for another name to DIR/wrong-ca.pem's CA (for failures)
  --read-only: default_transaction_read_only = on (what a client sees of a standby)
  --durable: keep fsync and synchronous_commit on (benchmarks); tests turn them off for speed
The superuser is `uptick` with password `uptick-test` (SCRAM over TCP). Prints "PORT <n>" once it accepts
connections, then "STOPPED" lines when told `stop` and "STARTED" when told `start` on stdin (a restart
under a running client). Runs the server as the `postgres` user when started as root (PostgreSQL refuses root).
"""
import fcntl
import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ARGS = sys.argv[1:]


def option(name, default=None):
    return ARGS[ARGS.index(name) + 1] if name in ARGS else default


def binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    postgres = shutil.which("postgres")
    if postgres:
        return os.path.dirname(postgres)
    sys.stderr.write("postgres_server.py: no PostgreSQL server binaries (apt-get install postgresql; .ci/run does)\n")
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BIN = binaries()
PORT = int(option("--port", "0")) or free_port()
ROOT = tempfile.mkdtemp(prefix="uptick-pg-")
DATA = os.path.join(ROOT, "data")
user = None
if os.geteuid() == 0:
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        user = pwd.getpwnam("nobody")
    os.chown(ROOT, user.pw_uid, user.pw_gid)
    os.chmod(ROOT, 0o755)


def as_server_user():
    if user is not None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)


def run(arguments):
    subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=as_server_user)


def certificates(directory):
    """A CA, a server certificate for localhost and 127.0.0.1 signed by it, and a second CA that signed nothing."""
    os.makedirs(directory, exist_ok=True)

    def openssl(*arguments):
        subprocess.run(["openssl", *arguments], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for name in ("ca", "wrong-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN=uptick test {name}",
                "-keyout", os.path.join(ROOT, f"{name}.key"), "-out", os.path.join(directory, f"{name}.pem"))
    extensions = os.path.join(ROOT, "san.cnf")
    with open(extensions, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost", "-keyout", os.path.join(ROOT, "server.key"),
            "-out", os.path.join(ROOT, "server.csr"))
    openssl("x509", "-req", "-in", os.path.join(ROOT, "server.csr"), "-CA", os.path.join(directory, "ca.pem"),
            "-CAkey", os.path.join(ROOT, "ca.key"), "-CAcreateserial", "-CAserial", os.path.join(ROOT, "ca.srl"), "-days", "2", "-extfile", extensions,
            "-out", os.path.join(ROOT, "server.crt"))
    for name in ("server.key", "server.crt"):
        path = os.path.join(ROOT, name)
        os.chmod(path, 0o600)
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)


password_file = os.path.join(ROOT, "password")
with open(password_file, "w") as f:
    f.write("uptick-test\n")
if user is not None:
    os.chown(password_file, user.pw_uid, user.pw_gid)
INITDB = [os.path.join(BIN, "initdb"), "-U", "uptick", "--pwfile", password_file, "--auth-host=scram-sha-256",
          "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync"]


def cluster():
    """DATA as a fresh cluster: a copy of one made by initdb once per machine and PostgreSQL version (initdb costs
    about 0.7 s of CPU, a copy 0.2 s; a test process starts six servers at the moment every suite starts, on 2 cores)."""
    version = subprocess.run([os.path.join(BIN, "postgres"), "--version"], check=True, capture_output=True, text=True).stdout
    options = [a for a in INITDB[1:] if a != password_file]  # the password itself is fixed
    key = hashlib.sha256(" ".join([version, *options, str(user.pw_uid if user else os.geteuid())]).encode()).hexdigest()[:16]
    template = os.path.join(tempfile.gettempdir(), f"uptick-pg-template-{key}")
    with open(template + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one initdb at a time; the others wait for it and copy
        if not os.path.exists(os.path.join(template, "PG_VERSION")):
            shutil.rmtree(template, ignore_errors=True)
            building = template + ".building"
            shutil.rmtree(building, ignore_errors=True)
            run(INITDB + ["-D", building])
            os.rename(building, template)
    run(["cp", "-a", template, DATA])


cluster()

settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"port={PORT}", "-c", f"unix_socket_directories={ROOT}",
            "-c", "max_connections=400", "-c", "shared_buffers=128MB"]
if "--durable" not in ARGS:
    settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
if "--read-only" in ARGS:
    settings += ["-c", "default_transaction_read_only=on"]
if option("--tls"):
    certificates(option("--tls"))
    settings += ["-c", "ssl=on", "-c", f"ssl_cert_file={ROOT}/server.crt", "-c", f"ssl_key_file={ROOT}/server.key"]

log = open(os.path.join(ROOT, "server.log"), "ab")
server = None


def start():
    global server
    server = subprocess.Popen([os.path.join(BIN, "postgres"), "-D", DATA, *settings], stdout=log, stderr=log,
                              preexec_fn=as_server_user)
    deadline = time.time() + 30
    while time.time() < deadline:
        ready = subprocess.run([os.path.join(BIN, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(PORT)])
        if ready.returncode == 0:
            return
        if server.poll() is not None:
            break
        time.sleep(0.05)
    sys.stderr.write("postgres_server.py: the server did not start:\n" + open(os.path.join(ROOT, "server.log")).read()[-2000:])
    sys.exit(1)


def stop():
    if server is not None and server.poll() is None:
        server.send_signal(2)  # SIGINT: fast shutdown, open sessions are ended
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


try:
    start()
    print(f"PORT {PORT}", flush=True)
    for line in sys.stdin:
        if line.strip() == "stop":
            stop()
            print("STOPPED", flush=True)
        elif line.strip() == "start":
            start()
            print("STARTED", flush=True)
finally:
    stop()
    shutil.rmtree(ROOT, ignore_errors=True)
