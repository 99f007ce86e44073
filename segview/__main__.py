"""`python -m segview`: the `segview` command (the window, or a subcommand)."""

import sys

from segview.cli import main

if __name__ == "__main__":
    sys.exit(main())
