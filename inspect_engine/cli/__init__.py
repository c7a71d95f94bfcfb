"""The ``inspect-engine`` command line: one module per command group, rendered errors in main."""
