"""``python -m symndk`` == the ``symndk`` console script."""
from symndk.cli import main

raise SystemExit(main())
