"""Run the ``exportjob`` command: ``python -m exportjob``."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
