"""Reliability tests of the ledger: crash (SIGKILL), injected I/O faults, damage, contention."""
