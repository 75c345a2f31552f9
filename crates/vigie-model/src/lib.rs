//! vigie-model
