//! vigie-response
