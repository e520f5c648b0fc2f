//! PMSI_TUNNEL attribute (RFC 6514 §5), as EVPN uses it for the
//! inclusive multicast route (RFC 7432 §11.2): ingress replication, the
//! tunnel identifier being the originating VTEP and the label field the
//! VNI (RFC 8365 §5.1.3).
//!
//! Owns the attribute value's layout. Never decides what a tunnel means
//! for forwarding (the EVPN RIB does).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};

use super::Problem;

/// Tunnel type "Ingress Replication" (RFC 6514 §5).
pub const INGRESS_REPLICATION: u8 = 6;

/// ```text
/// +---------------------------------+
/// |  Flags (1 octet)                |
/// +---------------------------------+
/// |  Tunnel Type (1 octet)          |
/// +---------------------------------+
/// |  MPLS Label (3 octets)          |
/// +---------------------------------+
/// |  Tunnel Identifier (variable)   |
/// +---------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PmsiTunnel {
    pub flags: u8,
    pub tunnel_type: u8,
    /// The 24-bit label field: the VNI for VXLAN.
    pub label: u32,
    pub tunnel_id: Vec<u8>,
}

impl PmsiTunnel {
    /// Ingress replication toward `vtep` for `vni`.
    pub fn ingress_replication(vni: u32, vtep: IpAddr) -> PmsiTunnel {
        let tunnel_id = match vtep {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        PmsiTunnel {
            flags: 0,
            tunnel_type: INGRESS_REPLICATION,
            label: vni & 0x00ff_ffff,
            tunnel_id,
        }
    }

    /// The tunnel endpoint of ingress replication.
    pub fn endpoint(&self) -> Option<IpAddr> {
        if self.tunnel_type != INGRESS_REPLICATION {
            return None;
        }
        match self.tunnel_id.len() {
            4 => <[u8; 4]>::try_from(self.tunnel_id.as_slice())
                .ok()
                .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
            16 => <[u8; 16]>::try_from(self.tunnel_id.as_slice())
                .ok()
                .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
            _ => None,
        }
    }

    pub fn decode(value: &[u8]) -> Result<PmsiTunnel, Problem> {
        match value {
            [flags, tunnel_type, a, b, c, id @ ..] => Ok(PmsiTunnel {
                flags: *flags,
                tunnel_type: *tunnel_type,
                label: u32::from_be_bytes([0, *a, *b, *c]),
                tunnel_id: id.to_vec(),
            }),
            _ => Err(Problem::Length(value.len())),
        }
    }

    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.flags);
        buf.put_u8(self.tunnel_type);
        let [_, a, b, c] = self.label.to_be_bytes();
        buf.put_slice(&[a, b, c]);
        buf.put_slice(&self.tunnel_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingress_replication_bytes() {
        let p = PmsiTunnel::ingress_replication(100, "192.0.2.1".parse().unwrap());
        let mut buf = BytesMut::new();
        p.encode(&mut buf);
        assert_eq!(&buf[..], &[0, 6, 0, 0, 100, 192, 0, 2, 1]);
        assert_eq!(PmsiTunnel::decode(&buf), Ok(p.clone()));
        assert_eq!(p.endpoint(), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(PmsiTunnel::decode(&[0, 6]), Err(Problem::Length(2)));
    }

    /// An IPv6 VTEP: the tunnel identifier is its 16 bytes (RFC 6514 §5,
    /// RFC 7432 §11.2), 21 bytes in all; FRR 8.4 takes only the 9-byte
    /// IPv4 form and resets the session on this one.
    #[test]
    fn ingress_replication_ipv6_bytes() {
        let vtep: IpAddr = "2001:db8::1".parse().unwrap();
        let p = PmsiTunnel::ingress_replication(100, vtep);
        let mut buf = BytesMut::new();
        p.encode(&mut buf);
        let mut want = vec![0, 6, 0, 0, 100];
        want.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        want.extend_from_slice(&[0; 11]);
        want.push(1);
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(PmsiTunnel::decode(&buf), Ok(p.clone()));
        assert_eq!(p.endpoint(), Some(vtep));
        // Neither 4 nor 16 bytes: no endpoint.
        let odd = PmsiTunnel::decode(&buf[..12]).unwrap();
        assert_eq!(odd.endpoint(), None);
    }
}
