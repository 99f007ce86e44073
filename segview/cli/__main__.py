"""`python -m segview.cli`."""

import sys

from segview.cli import main

sys.exit(main())
