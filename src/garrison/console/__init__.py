"""The operators' console: the dashboard's production build, served under ``/admin``."""
