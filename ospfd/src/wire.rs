//! Small nom building blocks shared by the packet and LSA decoders.
//! Owns nothing protocol-specific; never panics on short input.

use std::net::Ipv4Addr;

use nom::number::complete::be_u32;
use nom::IResult;

/// Result of a nom parser over a byte slice.
pub(crate) type Res<'a, T> = IResult<&'a [u8], T>;

/// A big-endian IPv4 address.
pub(crate) fn ipv4(i: &[u8]) -> Res<'_, Ipv4Addr> {
    let (i, v) = be_u32(i)?;
    Ok((i, Ipv4Addr::from(v)))
}

/// A big-endian 24-bit unsigned integer.
pub(crate) fn be_u24(i: &[u8]) -> Res<'_, u32> {
    nom::number::complete::be_u24(i)
}
