# A tiny hand-made BGP speaker for the bgp_raw tests: connects to our bgpd,
# exchanges OPEN/KEEPALIVE, then runs a scenario step by step. Between steps
# it waits for a file `go<N>` in the control directory (the test creates it
# once it has checked the previous step), sending keepalives meanwhile.
# Everything it learns is printed and written to `<ctl>/report.json`.
import json, os, select, socket, struct, sys, time

peer, my_as, as4, ctl, scenario = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "as4", sys.argv[4], sys.argv[5]
DEADLINE = time.time() + 55
report = {"open": None, "updates": [], "notifications": []}

def save():
    with open(os.path.join(ctl, "report.json.tmp"), "w") as f:
        json.dump(report, f)
    os.replace(os.path.join(ctl, "report.json.tmp"), os.path.join(ctl, "report.json"))

def msg(t, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body

def attr(flags, code, val):
    if len(val) > 255:
        return struct.pack("!BBH", flags | 0x10, code, len(val)) + val
    return struct.pack("!BBB", flags, code, len(val)) + val

def nlri(p):
    a, l = p.split("/")
    l = int(l)
    return bytes([l]) + socket.inet_aton(a)[: (l + 7) // 8]

def update(attrs=b"", nlris=(), withdrawn=()):
    w = b"".join(nlri(p) for p in withdrawn)
    n = b"".join(nlri(p) for p in nlris)
    return msg(2, struct.pack("!H", len(w)) + w + struct.pack("!H", len(attrs)) + attrs + n)

def as_path(asns, four):
    fmt = "!I" if four else "!H"
    return struct.pack("!BB", 2, len(asns)) + b"".join(struct.pack(fmt, a) for a in asns)

ORIGIN_IGP = attr(0x40, 1, b"\x00")
NH = attr(0x40, 3, socket.inet_aton("192.0.2.2"))

s = socket.create_connection((peer, 179), timeout=10)
s.setblocking(False)
buf = b""

def parse_attrs(data, four):
    out = {}
    i = 0
    while i < len(data):
        flags, code = data[i], data[i + 1]
        if flags & 0x10:
            ln = struct.unpack("!H", data[i + 2 : i + 4])[0]
            v = data[i + 4 : i + 4 + ln]
            i += 4 + ln
        else:
            ln = data[i + 2]
            v = data[i + 3 : i + 3 + ln]
            i += 3 + ln
        if code in (2, 17):
            w = 4 if (code == 17 or four) else 2
            asns = []
            j = 0
            while j < len(v):
                n = v[j + 1]
                for k in range(n):
                    asns.append(int.from_bytes(v[j + 2 + k * w : j + 2 + (k + 1) * w], "big"))
                j += 2 + n * w
            out["as_path" if code == 2 else "as4_path"] = asns
        elif code == 4:
            out["med"] = struct.unpack("!I", v)[0]
        elif code == 3:
            out["next_hop"] = socket.inet_ntoa(v)
        else:
            out["attr%d" % code] = v.hex()
    return out

def handle(t, body):
    if t == 1:
        ver, asn, hold = struct.unpack("!BHH", body[:5])
        caps = {}
        optlen = body[9]
        opt = body[10 : 10 + optlen]
        i = 0
        while i < len(opt):
            pt, pl = opt[i], opt[i + 1]
            if pt == 2:
                c = opt[i + 2 : i + 2 + pl]
                j = 0
                while j < len(c):
                    caps.setdefault(str(c[j]), []).append(c[j + 2 : j + 2 + c[j + 1]].hex())
                    j += 2 + c[j + 1]
            i += 2 + pl
        report["open"] = {"my_as": asn, "hold": hold, "caps": caps}
        if "65" in caps:
            report["open"]["as4"] = int(caps["65"][0], 16)
    elif t == 2:
        wl = struct.unpack("!H", body[:2])[0]
        al = struct.unpack("!H", body[2 + wl : 4 + wl])[0]
        attrs = parse_attrs(body[4 + wl : 4 + wl + al], as4)
        n = body[4 + wl + al :]
        pfx = []
        i = 0
        while i < len(n):
            l = n[i]
            b = (l + 7) // 8
            pfx.append(socket.inet_ntoa(n[i + 1 : i + 1 + b] + b"\x00" * (4 - b)) + "/%d" % l)
            i += 1 + b
        report["updates"].append({"nlri": pfx, "attrs": attrs})
    elif t == 3:
        report["notifications"].append(body.hex())
    print("received type", t, body.hex(), flush=True)
    save()

def pump(secs, until=None):
    global buf
    end = min(time.time() + secs, DEADLINE)
    last_ka = 0
    while time.time() < end:
        if until and os.path.exists(os.path.join(ctl, until)):
            return True
        if time.time() - last_ka >= 1:
            s.sendall(msg(4, b""))
            last_ka = time.time()
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            d = s.recv(65536)
            if not d:
                print("connection closed by bgpd", flush=True)
                sys.exit(3)
            buf += d
            while len(buf) >= 19:
                ln, t = struct.unpack("!HB", buf[16:19])
                if len(buf) < ln:
                    break
                handle(t, buf[19:ln])
                buf = buf[ln:]
                if t == 3:
                    print("NOTIFICATION: exiting", flush=True)
                    sys.exit(2)
    return until is None

caps = [(1, b"\x00\x01\x00\x01"), (2, b"")]
if scenario == "repeats":
    caps.append((1, b"\x00\x02\x00\x01"))
if as4:
    caps.append((65, struct.pack("!I", my_as)))
capb = b"".join(struct.pack("!BB", c, len(v)) + v for c, v in caps)
opt = struct.pack("!BB", 2, len(capb)) + capb
open_as = my_as if my_as < 65536 else 23456
s.setblocking(True)
s.sendall(msg(1, struct.pack("!BHH", 4, open_as, 30) + socket.inet_aton("192.0.2.2") + bytes([len(opt)]) + opt))
s.setblocking(False)
pump(2)
print("open exchanged", flush=True)

def step(n):
    if not pump(60, "go%d" % n):
        print("no go%d: exiting" % n, flush=True)
        sys.exit(4)
    print("step", n, flush=True)

if scenario == "malformed":
    path = attr(0x40, 2, as_path([my_as], as4))
    good = ORIGIN_IGP + path + NH
    s.sendall(update(good, ["198.51.100.0/25", "198.51.100.128/25", "203.0.113.128/25"]))
    step(1)
    # ORIGIN 5: malformed (RFC 7606 3.e: treat-as-withdraw).
    s.sendall(update(attr(0x40, 1, b"\x05") + path + NH, ["198.51.100.0/25"]))
    # The same for a prefix never announced before: never installed.
    s.sendall(update(attr(0x40, 1, b"\x05") + path + NH, ["203.0.113.0/26"]))
    step(2)
    # MED of length 3 (RFC 7606 7.4: treat-as-withdraw).
    s.sendall(update(ORIGIN_IGP + path + NH + attr(0x80, 4, b"\x00\x00\x07"), ["198.51.100.128/25"]))
    step(3)
    # A good one again: accepted, the session never went down.
    s.sendall(update(good, ["198.51.100.0/25"]))
elif scenario == "as2":
    # We are a 2-octet speaker relaying a path from 4200000003: AS_PATH
    # [my_as, AS_TRANS], AS4_PATH [4200000003].
    a = attr(0x40, 2, as_path([my_as, 23456], False)) + attr(0xC0, 17, as_path([4200000003], True))
    s.sendall(update(ORIGIN_IGP + a + NH, ["203.0.113.128/25"]))
elif scenario == "repeats":
    # One prefix per UPDATE, as route servers and some routers send them,
    # all in one write so that bgpd reads them at once: UPDATEs that repeat
    # the previous attributes join its routes, and every other kind must
    # keep its place in the order.
    path = attr(0x40, 2, as_path([my_as], as4))
    med10 = ORIGIN_IGP + path + NH + attr(0x80, 4, struct.pack("!I", 10))
    med20 = ORIGIN_IGP + path + NH + attr(0x80, 4, struct.pack("!I", 20))
    bad = attr(0x40, 1, b"\x05") + path + NH
    p = lambda k: "203.0.113.%d/28" % (16 * k)
    msgs = [update(med10, [p(k)]) for k in range(4)]
    msgs.append(update(withdrawn=[p(1)]))
    msgs.append(update(med10, [p(4)]))
    msgs.append(update(med10, [p(5)], withdrawn=[p(0)]))
    msgs.append(update(med10, [p(6)]))
    msgs.append(update(med20, [p(2)]))
    msgs.append(update(med10, [p(7)]))
    msgs.append(update(bad, [p(7)]))
    msgs.append(update(bad, [p(8)]))
    msgs.append(update(med10, [p(9), p(10)]))
    msgs.append(update(med10, [p(11)]))
    # Two paths interleaved, then each prefix of one path moved to the
    # other: the move must come after what it replaces.
    msgs += [update(med10, [p(12)]), update(med20, [p(13)]), update(med10, [p(14)]), update(med20, [p(15)])]
    msgs += [update(med10, [p(13)]), update(med20, [p(12)])]
    s.sendall(b"".join(msgs))
    step(1)
    # 512 one-prefix UPDATEs in one write: more than one batch toward
    # the RIB holds.
    hosts = ["198.51.100.%d/32" % i for i in range(256)] + ["203.0.113.%d/32" % i for i in range(256)]
    s.sendall(b"".join(update(med20, [h]) for h in hosts))
    step(2)
    # IPv6, one prefix per UPDATE in MP_REACH_NLRI (RFC 4760).
    def nlri6(p):
        a, l = p.split("/")
        l = int(l)
        return bytes([l]) + socket.inet_pton(socket.AF_INET6, a)[: (l + 7) // 8]
    nh6 = socket.inet_pton(socket.AF_INET6, "2001:db8:1::2")
    def v6(med, p):
        mp = attr(0x80, 14, b"\x00\x02\x01\x10" + nh6 + b"\x00" + nlri6(p))
        return update(ORIGIN_IGP + path + mp + attr(0x80, 4, struct.pack("!I", med)))
    q = lambda k: "2001:db8:%x::/48" % (0x10 + k)
    msgs = [v6(30, q(k)) for k in range(3)]
    msgs.append(update(attr(0x80, 15, b"\x00\x02\x01" + nlri6(q(1)))))
    msgs.append(v6(30, q(3)))
    msgs.append(v6(40, q(2)))
    msgs.append(v6(30, q(4)))
    s.sendall(b"".join(msgs))
    step(3)
    # Only our link-local address as next hop (RFC 2545 allows it on a
    # shared link), over a session on global addresses.
    ll = next(f.split()[0] for f in open("/proc/net/if_inet6") if f.split()[5] == "eth0" and f.startswith("fe80"))
    mp = attr(0x80, 14, b"\x00\x02\x01\x10" + bytes.fromhex(ll) + b"\x00" + nlri6("2001:db8:20::/48"))
    s.sendall(update(ORIGIN_IGP + path + mp))
pump(60, "stop")
