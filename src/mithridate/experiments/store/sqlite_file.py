"""One SQLite file shared safely by processes: the base of the sweep's results store and the grid store.

- The journal is a write-ahead log (WAL): readers never block the writer, and writers from several
  processes take turns (each waits up to `timeout` seconds for the lock instead of failing).
- `synchronous=FULL`: a commit is on disk when it returns, even across a power cut.
- Writes go through `_transaction`, which takes the write lock up front (`BEGIN IMMEDIATE`), so a
  transaction never fails half-way on a lock upgrade, and rolls back on any error.
- A store belongs to the process that opened it: an SQLite connection must not cross a fork.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Self

__all__ = ["SQLITE_HEADER", "SQLiteFile", "StoreError"]

SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(ValueError):
    """A store that cannot be opened or used as asked; the message names the file and the problem."""


class SQLiteFile:
    """Opens (creating it and its folder if missing), configures and closes one store file.

    Subclasses name what they are in `KIND` (for messages) and create or check their tables in
    `_init_schema`, inside `_transaction` when they write.
    """

    KIND: ClassVar[str] = "store"

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._pid = os.getpid()
        self._conn: sqlite3.Connection | None = None
        self._check_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: no implicit transactions; every write says BEGIN IMMEDIATE itself.
            conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot open the {self.KIND}: {error}") from error
        self._conn = conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._check_schema(conn)  # read only: refuse another database before changing its journal mode
            self._configure(conn, timeout)
            self._init_schema(conn)
        except sqlite3.DatabaseError as error:
            self.close()
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise StoreError(f"{self.path}: the {self.KIND} stayed locked for {timeout} s: {error}") from error
            raise StoreError(f"{self.path}: not a usable {self.KIND} (SQLite says: {error})") from error
        except BaseException:
            self.close()
            raise

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        raise NotImplementedError

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        """Raise StoreError if the file is a database of something else (reads only; default: no check)."""

    def _check_file(self) -> None:
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"{self.path}: expected a {self.KIND} file (SQLite), found a directory or other")
        if self.path.is_file():
            with open(self.path, "rb") as file:
                header = file.read(len(SQLITE_HEADER))
            if header and header != SQLITE_HEADER:
                raise StoreError(
                    f"{self.path}: not an SQLite database, so not a {self.KIND} (its first bytes are "
                    f"{header[:16]!r}); move it away or give another path"
                )

    def _configure(self, conn: sqlite3.Connection, timeout: float) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        # Switching a new file to WAL needs a lock that another process opening it at the same moment may
        # hold; the busy handler does not cover every case of this, so retry until the timeout.
        deadline = time.monotonic() + timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if str(mode).lower() != "wal":
            raise StoreError(
                f"{self.path}: the {self.KIND} needs SQLite's WAL journal mode, but the file system refused it "
                f"(journal mode is {mode!r}); put the store on a local disk"
            )
        conn.execute("PRAGMA synchronous = FULL")

    def settings(self) -> dict[str, object]:
        """The open connection's durability settings, as SQLite reports them: `journal_mode` ("wal"),
        `synchronous` (2: FULL, every commit reaches the disk) and `busy_timeout` (ms a writer waits for the lock)."""
        conn = self._connection()
        names = ("journal_mode", "synchronous", "busy_timeout")
        return {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names}

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the {self.KIND} is closed")
        if os.getpid() != self._pid:
            name = type(self).__name__
            raise StoreError(
                f"{self.path}: this {name} was opened in process {self._pid} and cannot be used in process "
                f"{os.getpid()}; open a {name} in each process"
            )
        return self._conn

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        """A write transaction that takes the write lock up front (waiting up to the busy timeout for it), so
        it can never fail half-way on a lock upgrade; rolled back on any error."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (idempotent). The last connection to close folds the WAL into the file."""
        if self._conn is not None and os.getpid() == self._pid:
            self._conn.close()
        self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, {'closed' if self._conn is None else 'open'})"
