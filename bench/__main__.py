"""`python -m bench NAME ...`; `hpf bench` imports `main` from here."""

import sys

from bench import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
