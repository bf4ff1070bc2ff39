"""Work done in a forked process while this one goes on: :func:`in_child`.

The report's pack is made in one process while the notebooks run on the other processor at the lowest priority; the
heaviest parts of the pack (the protection of the people's counts) are independent of the rest, and a forked
process has them at once, with everything this process has loaded and computed (nothing is imported or sent to it;
only its result comes back, pickled).
"""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


def in_child(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work()`` in a forked process now; returns a function that waits for its result and returns it (or
    raises the exception ``work`` raised). Where processes cannot be forked, ``work`` runs when its result is
    asked for."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return work
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            outcome = (True, work())
        except BaseException as exc:  # noqa: BLE001 - given to the parent, which raises it
            outcome = (False, exc)
        try:
            send.send(outcome)
        except Exception as exc:  # noqa: BLE001 - a result or exception that cannot be pickled
            send.send((False, RuntimeError(f"the forked process's result could not be sent back: {exc!r}")))

    process = ctx.Process(target=child, daemon=True)
    process.start()
    send.close()

    def result() -> T:
        try:
            ok, value = receive.recv()
        except EOFError:
            raise RuntimeError(f"a forked process stopped without its result (exit code {process.exitcode})")
        finally:
            receive.close()
            process.join()
        if not ok:
            raise value
        return value

    return result
