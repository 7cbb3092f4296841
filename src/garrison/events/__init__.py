"""Security events: who did what, recorded in the same transaction as the change."""
