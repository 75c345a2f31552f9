//! vigie-hunt
