"""`python -m accnb`: the `accnb` command."""

from .cli import main

raise SystemExit(main())
