"""`python -m bot`: the same command as `motcua`, for machines where the script is not on PATH."""

import sys

from bot.cli import main

sys.exit(main())
