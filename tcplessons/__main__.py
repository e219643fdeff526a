"""The ``tcplessons`` command: ``python -m tcplessons grade ...`` for instructors.

Run ``python -m tcplessons grade --help`` for the options; the command line itself is
:mod:`tcplessons.grading.cli`.
"""

from __future__ import annotations

import sys

from .grading.cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
