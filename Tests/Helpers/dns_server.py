"""A DNS server on 127.0.0.1 for the resolver tests, built on dnslib (PyPI) for the wire format.

Listens on UDP and TCP on one port, prints `PORT n`, then one line per query it receives:
`Q <name> <type> <udp|tcp> <queries of that zone in progress>`. Stops when its standard input closes.

Names (all under .test) and how they answer:
  public.test      A 93.184.216.34, AAAA 2606:2800:220:1:248:1893:25c8:1946 (TTL 60)
  loop.test        A 127.0.0.1, AAAA ::1 (TTL 60)
  forbidden.test   A 127.0.0.2
  mixed.test       A 10.0.0.5 and 127.0.0.1
  v4only.test      A 127.0.0.1; AAAA: NODATA with an SOA (TTL 60, minimum 5)
  chain.test       CNAME c1.chain.test -> CNAME c2.chain.test -> A 127.0.0.1, all in one answer
  ttl0.test        A 127.0.0.1 with TTL 0
  big.test         120 A records: too large for UDP, so TC=1 over UDP and the whole answer over TCP
  huge.test        300 A records (about 5 KB) even over UDP, ignoring the size the query advertised
  garbled.test     a datagram with the right id that is not a DNS message, then the answer over TCP
  servfail.test    SERVFAIL
  refused.test     REFUSED
  spoof.test       first answers with a wrong id, a wrong question and from another port (all 127.0.0.9),
                   then the real answer, A 127.0.0.1
  slow.test        A 127.0.0.1 after 300 ms
  *.slowzone.test  A 127.0.0.1 after 400 ms
  *.silent.test    never answers
  anything else    NXDOMAIN with an SOA (TTL 60, minimum 5)
"""
import socket
import socketserver
import sys
import threading
import time

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, SOA, A, DNSRecord

lock = threading.Lock()
in_progress = {}
decoy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
decoy.bind(("127.0.0.1", 0))


def zone(name):
    labels = name.rstrip(".").split(".")
    return ".".join(labels[-2:])


def soa(name):
    return RR("test.", QTYPE.SOA, ttl=60, rdata=SOA("ns.test.", "admin.test.", (1, 3600, 600, 86400, 5)))


def answer(request, proto):
    """The reply for `request`, or None to stay silent; may sleep. Side effects for the spoof case."""
    qname = str(request.q.qname).rstrip(".").lower()
    qtype = QTYPE[request.q.qtype]
    reply = request.reply()
    name = str(request.q.qname)

    def add(kind, value, ttl=60):
        rdata = A(value) if kind == "A" else AAAA(value)
        if qtype == kind:
            reply.add_answer(RR(name, getattr(QTYPE, kind), ttl=ttl, rdata=rdata))

    if qname.endswith("silent.test"):
        return None
    if qname.endswith("slowzone.test"):
        time.sleep(0.4)
        add("A", "127.0.0.1")
        return reply
    if qname == "public.test":
        add("A", "93.184.216.34")
        add("AAAA", "2606:2800:220:1:248:1893:25c8:1946")
    elif qname == "loop.test":
        add("A", "127.0.0.1")
        add("AAAA", "::1")
    elif qname == "forbidden.test":
        add("A", "127.0.0.2")
    elif qname == "mixed.test":
        add("A", "10.0.0.5")
        add("A", "127.0.0.1")
    elif qname == "v4only.test":
        add("A", "127.0.0.1")
        if qtype == "AAAA":
            reply.add_auth(soa(name))
    elif qname == "chain.test":
        reply.add_answer(RR(name, QTYPE.CNAME, ttl=60, rdata=CNAME("c1.chain.test.")))
        reply.add_answer(RR("c1.chain.test.", QTYPE.CNAME, ttl=30, rdata=CNAME("c2.chain.test.")))
        if qtype == "A":
            reply.add_answer(RR("c2.chain.test.", QTYPE.A, ttl=60, rdata=A("127.0.0.1")))
    elif qname == "ttl0.test":
        add("A", "127.0.0.1", ttl=0)
    elif qname == "big.test":
        for index in range(120):
            add("A", "93.184.%d.%d" % (index // 250, index % 250 + 1))
        if proto == "udp":
            reply.header.tc = 1
            reply.rr = reply.rr[:10]
    elif qname == "huge.test":
        for index in range(300):
            add("A", "93.185.%d.%d" % (index // 250, index % 250 + 1))
    elif qname == "servfail.test":
        reply.header.rcode = RCODE.SERVFAIL
    elif qname == "refused.test":
        reply.header.rcode = RCODE.REFUSED
    elif qname == "slow.test":
        time.sleep(0.3)
        add("A", "127.0.0.1")
    elif qname == "spoof.test" or qname == "garbled.test":
        add("A", "127.0.0.1")
    else:
        reply.header.rcode = RCODE.NXDOMAIN
        reply.add_auth(soa(name))
    return reply


def spoofs(request, send, client):
    """Wrong answers sent before the right one (spoof.test), or a garbled datagram (garbled.test)."""
    qname = str(request.q.qname).rstrip(".").lower()
    if qname == "garbled.test":
        send(bytes([request.header.id >> 8, request.header.id & 0xFF]) + b"\xff" * 7)
        return True
    if qname != "spoof.test":
        return False
    fake = request.reply()
    fake.add_answer(RR(str(request.q.qname), request.q.qtype, ttl=3600, rdata=A("127.0.0.9")))
    wrong_id = DNSRecord.parse(fake.pack())
    wrong_id.header.id = (request.header.id + 1) & 0xFFFF
    send(wrong_id.pack())
    wrong_question = DNSRecord.parse(fake.pack())
    wrong_question.q.qname = "other.test."
    wrong_question.rr[0].rname = "other.test."
    send(wrong_question.pack())
    decoy.sendto(fake.pack(), client)
    time.sleep(0.05)
    return False


def handle(data, proto, send, client):
    try:
        request = DNSRecord.parse(data)
    except Exception:
        return
    name = str(request.q.qname).rstrip(".").lower()
    key = zone(name)
    with lock:
        in_progress[key] = in_progress.get(key, 0) + 1
        print("Q %s %s %s %d" % (name, QTYPE[request.q.qtype], proto, in_progress[key]), flush=True)
    reply = None
    try:
        if proto == "udp" and spoofs(request, send, client):
            return
        reply = answer(request, proto)
    finally:
        # Counted out before the answer leaves: a query the client sends once it has the answer must never
        # find this one still counted.
        with lock:
            in_progress[key] -= 1
    if reply is not None:
        send(reply.pack())


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        handle(data, "udp", lambda payload: sock.sendto(payload, self.client_address), self.client_address)


class TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        header = self.request.recv(2)
        if len(header) < 2:
            return
        length = int.from_bytes(header, "big")
        data = b""
        while len(data) < length:
            chunk = self.request.recv(length - len(data))
            if not chunk:
                return
            data += chunk
        handle(data, "tcp", lambda payload: self.request.sendall(len(payload).to_bytes(2, "big") + payload), self.client_address)


class ThreadingUDP(socketserver.ThreadingUDPServer):
    daemon_threads = True


class ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    for _ in range(20):
        udp = ThreadingUDP(("127.0.0.1", 0), UDPHandler)
        port = udp.server_address[1]
        try:
            tcp = ThreadingTCP(("127.0.0.1", port), TCPHandler)
            break
        except OSError:
            udp.server_close()
    else:
        sys.exit("no free port for UDP and TCP together")
    for server in (udp, tcp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("PORT %d" % port, flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
