"""Managed workstations: what their agents may ask Garrison."""
