import sys

try:
    from .cli.app import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: no traceback
    raise SystemExit(130) from None
except ImportError as exc:  # a broken install: one line, not a traceback
    print(f"error: a package this command needs is missing or broken ({exc}); run `make setup` in the project "
          "folder (or pip install -r requirements.txt)", file=sys.stderr)
    raise SystemExit(2) from None


def leave(code: int) -> None:
    """End the process with ``code`` once the command is done, skipping the interpreter's teardown.

    Tearing down the scientific stack (freeing every module and object pandas, SciPy and statsmodels made) takes
    0.1-0.3 s of the user's time and does nothing a finished command needs. Like a ``multiprocessing`` child, the
    command leaves by ``os._exit`` after doing what a normal exit does that matters: the ``atexit`` functions
    (logging, temporary folders' finalizers, ...) and flushing stdout and stderr. Every file the commands write is
    closed where it is written. Anything unusual (another thread still running, a flush that fails, such as a
    closed pipe) takes the normal exit, which reports it as before."""
    import atexit
    import os
    import threading

    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if threading.active_count() > 1 or run_exit_functions is None:
        raise SystemExit(code)
    try:
        run_exit_functions()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - the normal exit says what went wrong
        raise SystemExit(code) from None
    os._exit(code)


leave(main())
