# Hostile OSPFv2 packets for tests/tests/ospf_hostile.rs: sends COUNT copies
# of one malformed packet to 224.0.0.5 from SRC on a segment.
#
#   hostile.py SRC CASE COUNT
#
# Each packet is a valid Hello or LS Update (RFC 2328 A.3) from router
# 203.0.113.99 in area 0 with one thing broken. `list` prints the cases.
import socket, struct, sys, time


def csum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fletcher(lsa):
    # RFC 905 Annex B over the LSA without its age; checksum at octet 16.
    data = bytearray(lsa[2:])
    data[14:16] = b"\x00\x00"
    c0 = c1 = 0
    for x in data:
        c0 = (c0 + x) % 255
        c1 = (c1 + c0) % 255
    n = len(data)
    pos = 15  # checksum's first octet, 1-based within data
    x = ((n - pos) * c0 - c1) % 255
    if x <= 0:
        x += 255
    y = 510 - c0 - x
    if y > 255:
        y -= 255
    return bytes([x, y])


def packet(ptype, body, version=2, area="0.0.0.0", autype=0, auth=b"\x00" * 8, length=None, good_csum=True, rid="203.0.113.99"):
    ln = 24 + len(body) if length is None else length
    hdr = struct.pack("!BBH4s4sHH", version, ptype, ln, socket.inet_aton(rid), socket.inet_aton(area), 0, autype)
    c = csum(hdr + body) if good_csum else 0xDEAD
    hdr = hdr[:12] + struct.pack("!H", c) + hdr[14:]
    return hdr + auth + body


def hello():
    return struct.pack("!4sHBBI4s4s", socket.inet_aton("255.255.255.248"), 1, 0x02, 1, 4, b"\x00" * 4, b"\x00" * 4)


def router_lsa(good=True, length=None, links=1):
    body = struct.pack("!BBH", 0, 0, links) + socket.inet_aton("203.0.113.99") + socket.inet_aton("255.255.255.255") + struct.pack("!BBH", 3, 0, 10)
    ln = 20 + len(body) if length is None else length
    h = struct.pack("!HBB4s4sIHH", 1, 0x02, 1, socket.inet_aton("203.0.113.99"), socket.inet_aton("203.0.113.99"), 0x80000001, 0, ln)
    lsa = bytearray(h + body)
    lsa[16:18] = fletcher(bytes(lsa)) if good else b"\x12\x34"
    return bytes(lsa)


def ls_update(lsa, count=1):
    return struct.pack("!I", count) + lsa


# Spoofed as the FRR neighbor (198.51.100.2, router 192.0.2.2), so that
# the LS Update passes the neighbor checks and its LSAs are examined.
FRR_ID = "192.0.2.2"
SPOOFED = {"lsa_bad_checksum", "lsa_bad_body"}

CASES = {
    "bad_checksum": lambda: packet(1, hello(), good_csum=False),
    "bad_version": lambda: packet(1, hello(), version=3),
    "area_mismatch": lambda: packet(1, hello(), area="0.0.0.7"),
    "auth_failure": lambda: packet(1, hello(), autype=1, auth=b"secret\x00\x00"),
    "auth_type_unknown": lambda: packet(1, hello(), autype=9),
    "unknown_type": lambda: packet(9, hello()),
    "too_short": lambda: packet(1, hello())[:12],
    "header_without_auth": lambda: packet(1, hello())[:20],
    "truncated": lambda: packet(1, hello())[:36],
    "absurd_length": lambda: packet(1, hello(), length=65535),
    "length_below_header": lambda: packet(1, hello(), length=8),
    "hello_truncated_body": lambda: packet(1, hello()[:10]),
    "lsa_bad_checksum": lambda: packet(4, ls_update(router_lsa(good=False)), rid=FRR_ID),
    "lsa_bad_body": lambda: packet(4, ls_update(router_lsa(links=5)), rid=FRR_ID),
    "lsa_truncated": lambda: packet(4, ls_update(router_lsa()[:30])),
    "lsa_absurd_length": lambda: packet(4, ls_update(router_lsa(length=4000))),
    "lsa_count_overrun": lambda: packet(4, ls_update(router_lsa(), count=1000)),
}

if sys.argv[1] == "list":
    print("\n".join(CASES))
    sys.exit(0)
src, case, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
pkt = CASES[case]()
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 89)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
wire = pkt
if case in SPOOFED:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(pkt), 0, 0, 1, 89, 0, socket.inet_aton("198.51.100.2"), socket.inet_aton("224.0.0.5"))
    wire = ip + pkt
for _ in range(count):
    s.sendto(wire, ("224.0.0.5", 0))
    time.sleep(0.05)
print(case, len(pkt), pkt.hex())
