mod dashboard_browser;
mod dashboard_routes;
mod dashboard_service;
