from latentatlas.cli import main

# Guarded: a process the demo spawns imports this module again and must not rerun the CLI.
if __name__ == "__main__":
    raise SystemExit(main())
