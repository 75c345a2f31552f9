//! Integration tests of vigie-intel: one module per area.
<<<<<<< HEAD

mod conformance;
mod ioc_feeds;
mod ioc_misp;
mod ioc_warninglist;
=======
mod taxii_client;
>>>>>>> h-taxii-client
