#!/usr/bin/env bash
# make screenshots: every screen and dialog of the terminal, offscreen at 1280×800, into docs/screens/ with
# docs/screens/index.md (tests/terminal/gallery.py). make references (this script with --references): re-render the
# reference images that tests/terminal/test_screen_references.py compares with, after an intended change of a screen.
# No server, card or database: the screens run over the stub core with fixed data.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
apt_ensure python3-venv fonts-noto-cjk libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3
venv_ensure "server,terminal,dev,package"
export QT_QPA_PLATFORM=offscreen
"$PY" -m tests.terminal.gallery "$@"
