"""tokendesk-cli: the Tokendesk command-line client. Standard library only.

`__version__` is the one place the version is written: the CLI's and the server's
pyproject.toml both read it, and the server names the wheel it serves after it.
"""

__version__ = "0.1.0"
