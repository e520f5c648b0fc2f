# A hostile BGP speaker for tests/tests/bgp_hostile.rs: one malformed case
# per run, written byte by byte (RFC 4271 section 6, RFC 7606).
#
#   hostile.py PEER MY_AS CTL CASE
#
# Connects to our bgpd (which listens passively), then, by the case's phase:
#   open         sends the case's (bad) OPEN instead of a good one;
#   opensent     sends the case's message before any OPEN;
#   openconfirm  exchanges OPENs, then sends the message instead of KEEPALIVE;
#   established  completes the handshake, then sends the message;
#   keep         completes the handshake, announces the case's prefix with
#                good attributes, waits for `<CTL>/<CASE>.go`, sends the bad
#                UPDATE and keeps the session up (keepalives) until
#                `<CTL>/<CASE>.done` appears.
# What bgpd answered goes to `<CTL>/<CASE>.json`: the NOTIFICATIONs received
# (code, subcode, data in hex), whether bgpd closed the connection, and
# whether the session was ever Established. Every wait is bounded.
import json, os, select, socket, struct, sys, time

peer, my_as, ctl, case = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
DEADLINE = time.time() + 50
result = {"case": case, "notifications": [], "closed": False, "established": False, "sent": ""}
out = os.path.join(ctl, case + ".json")


def save():
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(out + ".tmp", out)


def msg(t, body, marker=b"\xff" * 16, length=None):
    return marker + struct.pack("!HB", 19 + len(body) if length is None else length, t) + body


def attr(flags, code, val):
    if len(val) > 255 or flags & 0x10:
        return struct.pack("!BBH", flags | 0x10, code, len(val)) + val
    return struct.pack("!BBB", flags, code, len(val)) + val


def nlri(p, plen=None):
    a, l = p.split("/")
    l = int(l) if plen is None else plen
    return bytes([l]) + socket.inet_aton(a)[: min(4, (l + 7) // 8)]


def update(attrs=b"", nlris=(), withdrawn=b""):
    n = b"".join(nlri(p) for p in nlris)
    return msg(2, struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + n)


def open_msg(version=4, asn=None, hold=30, bgp_id="192.0.2.2", opt=None):
    asn = my_as if asn is None else asn
    if opt is None:
        caps = [(1, b"\x00\x01\x00\x01"), (2, b""), (65, struct.pack("!I", asn))]
        capb = b"".join(struct.pack("!BB", c, len(v)) + v for c, v in caps)
        opt = struct.pack("!BB", 2, len(capb)) + capb
    return msg(1, struct.pack("!BHH", version, asn, hold) + socket.inet_aton(bgp_id) + bytes([len(opt)]) + opt)


ORIGIN = attr(0x40, 1, b"\x00")
PATH = attr(0x40, 2, struct.pack("!BBI", 2, 1, my_as))
NH = attr(0x40, 3, socket.inet_aton("192.0.2.2"))
GOOD = ORIGIN + PATH + NH


def med(v):
    return attr(0x80, 4, struct.pack("!I", v))


KEEPALIVE = msg(4, b"")
P = "203.0.113.0/28"  # replaced per keep case below


def mp_reach_v6(nh_len=16):
    nh = socket.inet_pton(socket.AF_INET6, "2001:db8:1::2")[:nh_len] + b"\x00" * max(0, nh_len - 16)
    val = struct.pack("!HBB", 2, 1, nh_len) + nh + b"\x00" + bytes([64]) + socket.inet_pton(socket.AF_INET6, "2001:db8:99::")[:8]
    return attr(0x80, 14, val)


# case -> (phase, bytes to send, keep-case prefix or None)
def cases():
    c = {}
    # Message header (RFC 4271 section 6.1).
    c["header_marker"] = ("established", msg(4, b"", marker=b"\xff" * 15 + b"\xfe"))
    c["header_length_short"] = ("established", msg(4, b"", length=18))
    c["header_length_keepalive"] = ("established", msg(4, b"\x00", length=20))
    # 4097 octets without the Extended Message capability (RFC 8654).
    c["header_length_huge"] = ("established", msg(2, b"\x00" * 4078))
    # The same header alone: answered without waiting for a body.
    c["header_length_huge_no_body"] = ("established", msg(2, b"", length=4097))
    c["header_type"] = ("established", msg(9, b""))
    # OPEN (section 6.2).
    c["open_version"] = ("open", open_msg(version=3))
    c["open_peer_as"] = ("open", open_msg(asn=64999))
    c["open_hold_1"] = ("open", open_msg(hold=1))
    c["open_hold_2"] = ("open", open_msg(hold=2))
    c["open_bgp_id"] = ("open", open_msg(bgp_id="0.0.0.0"))
    c["open_opt_param"] = ("open", open_msg(opt=b"\x03\x02\x00\x00"))
    c["open_short"] = ("open", msg(1, b"\x04\x00"))
    # FSM errors (section 6.6, RFC 6608 subcodes).
    c["fsm_keepalive_in_opensent"] = ("opensent", KEEPALIVE)
    c["fsm_update_in_openconfirm"] = ("openconfirm", update(GOOD, ["203.0.113.0/28"]))
    c["fsm_open_in_established"] = ("established", open_msg())
    # UPDATE errors that reset the session (section 6.3, RFC 7606 sections 3-5).
    c["update_withdrawn_length"] = ("established", msg(2, struct.pack("!H", 200) + b"\x00\x00"))
    c["update_attr_length"] = ("established", msg(2, struct.pack("!HH", 0, 300) + GOOD))
    c["update_nlri_33"] = ("established", msg(2, struct.pack("!HH", 0, len(GOOD)) + GOOD + nlri("203.0.113.0/32", 33)))
    c["update_withdrawn_33"] = ("established", update(withdrawn=nlri("203.0.113.0/32", 33)))
    c["update_nlri_truncated"] = ("established", msg(2, struct.pack("!HH", 0, len(GOOD)) + GOOD + b"\x18\xcb\x00"))
    c["update_unknown_well_known"] = ("established", update(GOOD + attr(0x40, 99, b"\x01\x02"), ["203.0.113.0/28"]))
    c["update_mp_reach_twice"] = ("established", update(ORIGIN + PATH + mp_reach_v6() + mp_reach_v6()))
    c["update_mp_reach_nh_len"] = ("established", update(ORIGIN + PATH + mp_reach_v6(nh_len=5)))
    c["update_mp_reach_flags"] = ("established", update(ORIGIN + PATH + attr(0x40, 14, mp_reach_v6()[3:])))
    c["update_mp_reach_overrun"] = ("established", update(ORIGIN + PATH + mp_reach_v6()[:-4]))
    c["route_refresh_length"] = ("established", msg(5, b"\x00\x01\x00"))
    # Treat-as-withdraw (RFC 7606): the session stays up, the prefix goes.
    keep = {
        "taw_origin_value": (attr(0x40, 1, b"\x05") + PATH + NH),
        "taw_origin_length": (attr(0x40, 1, b"\x00\x00") + PATH + NH),
        "taw_origin_flags": (attr(0xC0, 1, b"\x00") + PATH + NH),
        "taw_missing_origin": (PATH + NH),
        "taw_missing_as_path": (ORIGIN + NH),
        "taw_missing_next_hop": (ORIGIN + PATH),
        "taw_next_hop_length": (ORIGIN + PATH + attr(0x40, 3, b"\xc0\x00\x02\x02\x00")),
        "taw_next_hop_multicast": (ORIGIN + PATH + attr(0x40, 3, socket.inet_aton("224.0.0.1"))),
        "taw_as_path_segment_type": (ORIGIN + attr(0x40, 2, struct.pack("!BBI", 7, 1, my_as)) + NH),
        "taw_as_path_overrun": (ORIGIN + attr(0x40, 2, struct.pack("!BBI", 2, 3, my_as)) + NH),
        "taw_attribute_overrun": (ORIGIN + PATH + NH)[:-1] + b"",
        "taw_med_length": (GOOD + attr(0x80, 4, b"\x00\x00\x07")),
        "taw_as_path_confed_from_ebgp": (ORIGIN + attr(0x40, 2, struct.pack("!BBIBBI", 3, 1, 64999, 2, 1, my_as)) + NH),
        "taw_communities_length": (GOOD + attr(0xC0, 8, b"\xfd\xe8\x00")),
        "taw_large_communities_length": (GOOD + attr(0xC0, 32, b"\x00" * 10)),
        "taw_ext_communities_length": (GOOD + attr(0xC0, 16, b"\x00" * 7)),
        # Attribute discard: the route stays, the attribute goes.
        "discard_aggregator_length": (GOOD + med(2) + attr(0xC0, 7, b"\x00\x00\xfd\xe8\xc0\x00\x02")),
        "discard_atomic_aggregate_length": (GOOD + med(2) + attr(0x40, 6, b"\x01")),
        "discard_duplicate_med": (GOOD + med(2) + med(3)),
        # RFC 7606 section 7.5: LOCAL_PREF from an external peer is
        # discarded whatever its length.
        "discard_ebgp_local_pref_length": (GOOD + med(2) + attr(0x40, 5, b"\x00\x64")),
    }
    for i, (name, attrs) in enumerate(keep.items()):
        prefix = "203.0.113.%d/29" % (i * 8)
        if name == "taw_attribute_overrun":
            # The NEXT_HOP's length says 4, only 3 octets follow before the
            # Total Path Attribute Length ends: NLRI still located.
            body = struct.pack("!HH", 0, len(attrs)) + attrs + nlri(prefix)
            c[name] = ("keep", msg(2, body), prefix)
        else:
            c[name] = ("keep", update(attrs, [prefix]), prefix)
    return c


CASES = cases()
if case == "list":
    print("\n".join(CASES))
    sys.exit(0)
spec = CASES[case]
phase, bad = spec[0], spec[1]
prefix = spec[2] if len(spec) > 2 else None

s = socket.create_connection((peer, 179), timeout=10)
s.setblocking(False)
buf = b""
got_open = False
got_keepalive = False


def handle(t, body):
    global got_open, got_keepalive
    if t == 1:
        got_open = True
    elif t == 4:
        got_keepalive = True
    elif t == 3:
        result["notifications"].append({"code": body[0], "subcode": body[1], "data": body[2:].hex()})
        save()


def pump(secs, until=None, keepalives=False):
    """Reads for up to `secs`; returns when `until()` holds or bgpd closes."""
    global buf
    end = min(time.time() + secs, DEADLINE)
    last_ka = time.time()
    while time.time() < end:
        if until and until():
            return True
        if keepalives and time.time() - last_ka >= 1:
            try:
                s.sendall(KEEPALIVE)
            except OSError:
                result["closed"] = True
                return False
            last_ka = time.time()
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                result["closed"] = True
                return bool(until and until())
            buf += d
            while len(buf) >= 19:
                ln = struct.unpack("!H", buf[16:18])[0]
                if ln < 19 or len(buf) < ln:
                    break
                handle(buf[18], buf[19:ln])
                buf = buf[ln:]
    return bool(until and until())


def send(b):
    result["sent"] = b.hex()
    try:
        s.sendall(b)
    except OSError:
        result["closed"] = True


def handshake():
    send(open_msg())
    if not pump(10, lambda: got_open and got_keepalive):
        save()
        sys.exit(0)
    send(KEEPALIVE)
    result["established"] = True


if phase == "open":
    pump(5, lambda: got_open)
    send(bad)
elif phase == "opensent":
    pump(5, lambda: got_open)
    send(bad)
elif phase == "openconfirm":
    send(open_msg())
    pump(10, lambda: got_open and got_keepalive)
    send(bad)
elif phase == "established":
    handshake()
    pump(1.5, keepalives=True)
    send(bad)
elif phase == "keep":
    handshake()
    # Baseline with a good ATOMIC_AGGREGATE and AGGREGATOR, so a discard
    # case shows the attribute going away.
    agg = attr(0xC0, 7, struct.pack("!I", my_as) + socket.inet_aton("192.0.2.2"))
    send(update(GOOD + med(1) + attr(0x40, 6, b"") + agg, [prefix]))
    save()
    pump(40, lambda: os.path.exists(os.path.join(ctl, case + ".go")), keepalives=True)
    send(bad)
    save()
    pump(40, lambda: os.path.exists(os.path.join(ctl, case + ".done")) or result["notifications"], keepalives=True)
    save()
    s.close()
    sys.exit(0)

# Wait for bgpd's answer: a NOTIFICATION, then the close.
pump(10, lambda: result["closed"] or result["notifications"] and result["closed"])
save()
s.close()
