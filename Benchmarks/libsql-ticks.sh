#!/usr/bin/env bash
# Ticks against the libSQL test server (Tests/Helpers/libsql_server.py) with and without 50 ms added per
# request: how many HTTP requests a tick makes and how long it takes, for 100, 1 000 and 5 000 due port
# monitors against a local TCP listener. Run after `swift build -c release`, inside a network namespace:
#   unshare -n sh -c 'ip link set lo up && bash Benchmarks/libsql-ticks.sh'
set -e
cd "$(dirname "$0")/.."
B=.build/release/uptick
mkfifo /tmp/tcpin 2>/dev/null || true
(sleep 100000 > /tmp/tcpin &)
.build/release/uptick-bench serve --kind tcp < /tmp/tcpin > /tmp/tcp.out 2>&1 &
sleep 1
TPORT=$(head -1 /tmp/tcp.out)
for N in 100 1000 5000; do
  for DELAY in 0 50; do
    D=$(mktemp -d)
    $B migrate --db $D/u.db > /dev/null
    python3 -c "
import sqlite3,sys
c=sqlite3.connect(sys.argv[1])
c.executemany('INSERT INTO monitors (key,name,type,target,interval_seconds,timeout_ms,next_check_at) VALUES (?,?,?,?,?,?,0)', [('m%d'%i,'m%d'%i,'port','127.0.0.1:$TPORT',3600,5000) for i in range($N)])
c.commit()" $D/u.db
    mkfifo $D/in; (sleep 100000 > $D/in &)
    python3 Tests/Helpers/libsql_server.py $D/u.db --delay-ms $DELAY < $D/in > $D/srv.out 2>&1 &
    sleep 0.5
    PORT=$(head -1 $D/srv.out | cut -d' ' -f2)
    S=$(date +%s%N)
    OUT=$($B tick --db http://127.0.0.1:$PORT --allow-cidr 127.0.0.1/32 --batch 5000 --concurrency 5000 --json 2>/dev/null)
    E=$(date +%s%N)
    PIPES=$(python3 -c "import urllib.request,json; print(json.load(urllib.request.urlopen('http://127.0.0.1:$PORT/stats'))['pipelines'])")
    CLAIMED=$(echo "$OUT" | python3 -c "import json,sys; print(json.load(sys.stdin)['claimed'])")
    echo "N=$N delay=${DELAY}ms claimed=$CLAIMED requests=$PIPES wall=$(( (E-S)/1000000 ))ms"
    pkill -f "libsql_server.py $D/u.db" || true
    rm -rf $D
  done
done
pkill -f "sleep 100000" || true
