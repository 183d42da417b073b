"""orgvend: the operators' command line, a client of the HTTP API."""
