#!/usr/bin/env python3
"""Runs a server as a child subreaper: every descendant that exits is waited for here, so this
process's cutime/cstime hold the CPU of all of them. sshd's per-session processes are
orphaned when their privileged monitor exits first (for non-root users) and would otherwise be
reaped by init, their CPU lost to the measurement."""
import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
child = os.fork()
if child == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGTERM))
status = 0
while True:
    try:
        pid, st = os.wait()
    except ChildProcessError:
        break
    except InterruptedError:
        continue
    if pid == child:
        status = os.waitstatus_to_exitcode(st)
sys.exit(status if status >= 0 else 128 - status)
