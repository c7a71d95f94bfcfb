"""Reports from the ledger: tallies as of a cut-off, the Friday progress report, hazard lists.

Every report is computed from a projection as of a cut-off time, so the same ledger and cut-off
give the same output, byte for byte, in every format (docs/reports.md). ``tabular`` holds the
table model and its renderings (terminal, Markdown, CSV, Excel) that all reports share.
"""
