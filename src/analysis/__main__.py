import sys

try:
    from .cli.app import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: no traceback
    raise SystemExit(130) from None
except ImportError as exc:  # a broken install: one line, not a traceback
    print(f"error: a package this command needs is missing or broken ({exc}); run `make setup` in the project "
          "folder (or pip install -r requirements.txt)", file=sys.stderr)
    raise SystemExit(2) from None

raise SystemExit(main())
