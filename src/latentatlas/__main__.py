from latentatlas.cli import main

raise SystemExit(main())
