"""A pseudo-terminal for a child process, to see what the entry scripts do on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import termios
import threading


class Terminal:
    """A pseudo-terminal 100 columns wide; the test hands ``slave`` to the child.

    Whatever the child writes to it is collected in ``text``; nothing is ever typed in, so
    a child that reads the terminal blocks (and the test's timeout catches it).
    """

    def __init__(self, columns: int = 100):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:      # EIO once the child and we have closed the slave
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.slave)
        self._reader.join(5)
        os.close(self.master)

    @property
    def text(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")
