//! Tests of the read model.
