"""Entry point of the packaged terminal (PyInstaller): the same ``python -m terminal_agent`` command line."""

import sys

from terminal_agent.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
