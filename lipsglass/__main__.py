from lipsglass.cli import main

raise SystemExit(main())
