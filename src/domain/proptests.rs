//! Property tests of the state machines (placeholder).
