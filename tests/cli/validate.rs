//! validate tests
