"""Benchmarks: batch jobs timed against a plain set-based SQL baseline on the same data.

Run from the repository root: `.venv/bin/python -m bench all --members 1000000 --engine both`.
See docs/performance.md for what is measured and the figures.
"""


def main(argv: list[str] | None = None) -> int:
    """Entry point for `python -m bench` and for `hpf bench`."""
    from bench.cli import main as run

    return run(argv)


__all__ = ["main"]
