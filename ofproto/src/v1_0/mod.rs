//! OpenFlow 1.0.
