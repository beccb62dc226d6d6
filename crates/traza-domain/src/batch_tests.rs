//! Tests of the batch rules (written next).
