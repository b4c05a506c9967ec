from plume.cli import main

raise SystemExit(main())
