"""`python -m tokendesk_cli`, and the entry point of the zipapp the server serves."""

import sys

from tokendesk_cli.cli import main

sys.exit(main())
