//! Syslog listeners: UDP and TCP (octet counting, RFC 6587, or newline framing),
//! parsing with `vigie_event::syslog`. (Syslog engineer.)
