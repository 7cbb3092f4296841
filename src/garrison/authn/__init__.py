"""Authentication core: who is calling (subjects and authenticators) and how secrets are checked."""
