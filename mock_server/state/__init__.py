"""What the fake remembers between requests (uploaded files, ...)."""
