//! (being built: see /work/helper-common.md)
