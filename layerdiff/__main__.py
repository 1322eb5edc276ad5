from layerdiff.cli import main

raise SystemExit(main())
