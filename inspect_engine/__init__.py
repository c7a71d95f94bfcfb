"""inspect-engine: compliance-checklist engine for field inspections.

The core package. It never imports ``textual`` or ``tui`` (checked by a test); the terminal app
lives in the ``tui`` package and calls into this one.
"""

__version__ = "0.1.0"
