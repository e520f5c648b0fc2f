//! The Options field carried in Hello and Database Description packets and
//! in every LSA header (RFC 2328 A.2). Owns only the bit names; which bits a
//! router sets or requires is the interface and area logic's decision.

bit_flags! {
    /// RFC 2328 A.2 Options (and later RFCs' bits in the same byte).
    ///
    /// ```text
    ///  +------------------------------------+
    ///  | DN | O | DC | EA | N/P | MC | E | MT |
    ///  +------------------------------------+
    /// ```
    pub struct Options(u8) {
        /// MT (formerly T): multi-topology / TOS capability.
        const MT = 0x01;
        /// E: the area is not a stub, AS-external LSAs are flooded.
        const E = 0x02;
        /// MC: multicast extensions (MOSPF).
        const MC = 0x04;
        /// N/P: NSSA support (Hello) / propagate (type-7 LSA).
        const NP = 0x08;
        /// L (formerly EA): link-local signalling, RFC 5613.
        const L = 0x10;
        /// DC: demand circuits, RFC 1793.
        const DC = 0x20;
        /// O: opaque LSAs, RFC 5250.
        const O = 0x40;
        /// DN: down bit, RFC 4576.
        const DN = 0x80;
    }
}
