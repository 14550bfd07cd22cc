import os
import sys

# `python -m latentatlas` puts the current folder first on sys.path, so a module there (a
# `torch.py`, a factory's package) would shadow the installed one: take it off before any other
# import. A factory's own module is found through PYTHONPATH or an installed package.
if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from latentatlas.cli import run  # noqa: E402

# Guarded: a process the demo spawns imports this module again and must not rerun the CLI.
if __name__ == "__main__":
    run()
