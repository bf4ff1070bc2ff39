"""Work done in a forked process while this one goes on: :func:`in_child`.

The report's pack is made in one process while the notebooks run on the other processor at the lowest priority; the
heaviest parts of the pack (the protection of the people's counts) are independent of the rest, and a forked
process has them at once, with everything this process has loaded and computed (nothing is imported or sent to it;
only its result comes back, pickled).
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

T = TypeVar("T")


def in_child(work: Callable[[], T]) -> Forked[T]:
    """Start ``work()`` in a forked process now; returns a :class:`Forked`, called for the result. Where processes
    cannot be forked, or there is one processor, ``work`` runs in place when its result is asked for."""
    import multiprocessing
    import os

    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return Forked(work)
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
    return Forked(None, process, receive)


class Forked(Generic[T]):
    """Work started by :func:`in_child`: call it for the result (it waits for the process; raises the exception the
    work raised), or :meth:`stop` it when its result is no longer wanted."""

    def __init__(self, work: Callable[[], T] | None, process=None, receive=None):
        self.work, self.process, self.receive = work, process, receive

    def __call__(self) -> T:
        if self.process is None:
            return self.work()
        try:
            ok, value = self.receive.recv()
        except EOFError:
            raise RuntimeError(f"a forked process stopped without its result (exit code {self.process.exitcode})")
        finally:
            self.receive.close()
            self.process.join()
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        """Stop the process (the caller failed before it asked for the result)."""
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()
