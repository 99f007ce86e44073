"""Entry point of the frozen app (packaging/segview.spec): the `segview` command, window included.

``multiprocessing.freeze_support()`` comes first: the model process is a spawned child, and a frozen
app spawns it by running this same executable, which must then become the child instead of segview.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from segview.cli import main

    sys.exit(main())
