"""Judge a reader of a large payload by how its reading goes, not by one timeout.

:func:`_call_while_reading` runs the learner's function on a :class:`_SteadySocket`
while a megabyte or two streams in, and fails code that stopped reading, that does not
return once everything was read, or that gets slower with every byte it has read
(judged from the processor time its thread used, so a busy machine changes nothing).
recv_exactly's and recv_all's large-payload checks call it
(:mod:`tcplessons.exercises.stream`); what they share otherwise is in
:mod:`tcplessons.exercises._stream_checking`.
"""

from __future__ import annotations

import math
import threading
import time

from ._stream_checking import EOF_TIMEOUT, POLL, _decoding_failure, _SteadySocket
from .model import CheckFailed
from .tools import STALL_TIMEOUT, LearnerCall

#: Seconds recv_all (2 MB) and recv_exactly (1 MB) may take for their large payloads
#: while they keep reading: recv(1) in a loop is correct, only slow (many seconds on a
#: busy machine), so this is generous; only code that gets slower and slower as it reads
#: (data += chunk copies everything read so far) is projected to miss it.
LARGE_LIMIT = 60.0
#: After the learner's thread has used this many seconds of processor time, the check
#: starts asking how much the whole payload will need (see _call_while_reading).
LARGE_JUDGE_AFTER = 1.0

SLOW_HINT = (
    "read bigger pieces, e.g. sock.recv(4096) (one call per byte is slow), collect them "
    "in a list and join it once at the end with b''.join(pieces) (data += chunk copies "
    "everything read so far, every time)"
)


def _call_while_reading(
    fn, sock: _SteadySocket, size: int, *args, call: str, amount: str, all_read: CheckFailed
):
    """``fn(sock, *args)`` in a thread, bounded by how its reading goes, not by one timeout.

    ``sock`` is a :class:`_SteadySocket` on which ``size`` bytes (``amount`` in words)
    stream in.  Then:

    - everything read but no return within EOF_TIMEOUT: fail with ``all_read`` (for
      recv_all, code that ignores ``b""``);
    - nothing read for STALL_TIMEOUT: it stopped reading — fail;
    - it gets slower and slower as it reads (``data += chunk`` copies everything read
      so far): judged from the *processor time* its thread has used, not the clock, so
      a busy machine changes nothing.  The work so far, and how it grew with the bytes
      read, give the work the whole payload needs (``work ∝ bytes ** k``); over
      LARGE_LIMIT seconds of processor time fails with a hint on reading bigger pieces.
      Slow but steady code, such as recv(1) into a list, passes however busy the
      machine is.

    The verdicts' texts hold no measured numbers, so a report reads the same every run.
    """
    running = LearnerCall(fn, sock, *args)
    start = time.monotonic()
    running.start()
    work = _thread_work(running.thread)
    samples: list = []  # (work done, bytes read), oldest first
    last_count, last_progress, all_read_at = 0, start, None
    while True:
        if running.join(POLL):
            break
        now = time.monotonic()
        count = sock.delivered
        if count > last_count:
            last_count, last_progress = count, now
        if count >= size:
            all_read_at = all_read_at or now
            if now - all_read_at > EOF_TIMEOUT:
                raise all_read
            continue
        if now - last_progress > STALL_TIMEOUT:
            raise CheckFailed(
                f"{call} stopped reading: no recv() for {STALL_TIMEOUT:g} s before all "
                f"{amount} had arrived",
                hint=f"keep calling recv() until you have all {amount}",
            )
        done = work()
        samples.append((done, count))
        if done >= LARGE_JUDGE_AFTER and _projected_work(samples, size) > LARGE_LIMIT:
            raise CheckFailed(
                f"{call} reads too slowly: it gets slower with every byte it has read",
                hint=SLOW_HINT,
            )
    try:
        return running.result()
    except UnicodeDecodeError:
        raise _decoding_failure(call) from None


def _thread_work(thread: threading.Thread):
    """A function giving the processor time ``thread`` has used so far (where the system
    can tell; else the time since now, which a busy machine stretches)."""
    try:
        clock = time.pthread_getcpuclockid(thread.ident)
        time.clock_gettime(clock)
        return lambda: time.clock_gettime(clock)
    except (AttributeError, OSError, TypeError):
        started = time.monotonic()
        return lambda: time.monotonic() - started


def _projected_work(samples: list, size: int) -> float:
    """The work reading ``size`` bytes will take, from how the work grew so far."""
    done, count = samples[-1]
    half = next(((w, c) for w, c in reversed(samples) if w <= done / 2), None)
    if half is None or count <= 0:
        return 0.0
    w, c = half
    if c <= 0 or count <= c or w <= 0:
        return done * size / max(count, 1)
    k = math.log(done / w) / math.log(count / c)
    k = min(max(k, 1.0), 3.0)  # steady is 1, copying everything so far is about 2
    return done * (size / count) ** k
