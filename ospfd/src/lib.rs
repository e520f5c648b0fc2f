//! OSPFv2 router.
