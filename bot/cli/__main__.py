"""`python -m bot.cli`: the `component-bot` command."""

import sys

from bot.cli import main

sys.exit(main())
