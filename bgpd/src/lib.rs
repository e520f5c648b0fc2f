//! BGP-4 speaker.
