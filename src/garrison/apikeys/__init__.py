"""API keys: scoped, expiring, rotatable credentials that administrators issue to programs."""
