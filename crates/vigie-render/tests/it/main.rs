//! Integration tests of vigie-render.

mod html;
mod html_browser;
mod html_expect;
mod html_fixture;
