//! Integration tests of vigie-render.

mod html_fixture;
