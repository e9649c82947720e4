from podc.cli.main import main

raise SystemExit(main())
