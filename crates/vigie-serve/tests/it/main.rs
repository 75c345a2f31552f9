mod dashboard_routes;
mod dashboard_service;
