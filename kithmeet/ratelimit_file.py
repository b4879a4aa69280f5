"""Rate-limit counts in a small file in the instance folder, shared by every gunicorn worker of
the machine, so a hit costs microseconds and never takes the database's one write lock (on
SQLite a count in the database queued behind every connect, and every connect behind it).

Registered with the `limits` library as the `kithmeet+file://` storage, the default on SQLite
(one machine by nature; PostgreSQL sites keep `kithmeet+db://`, several machines `redis://`).
The file is a fixed table of slots, mapped into each worker's memory: a slot holds a key's
digest (the key itself is never written), the end of its window and its count. Counts are fixed
windows, as in the other storages. A hit takes this process's thread lock, then the file's lock
(fcntl, so other workers wait), finds the key's slot among a few neighbours, and bumps it.

What may go wrong, and what happens:
- A file that is not ours (cut short, another layout, garbage, removed or replaced): started
  afresh under the lock. Counts restart from zero, which lets a few more tries through.
- A slot that cannot be right (a window ending later than its length allows, a count no client
  could make): that key starts a new window.
- A full neighbourhood (more keys than the table was sized for, all in their window): the key
  whose window ends soonest gives way to the new one.
Any other failure (a read-only folder) reaches ratelimits._hit, which lets the request through.
"""
import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
import weakref
from urllib.parse import quote, unquote, urlsplit

from limits.storage import Storage

SCHEME = "kithmeet+file"
FILE_NAME = "ratelimit.counts"
MAGIC = b"kithRL01"
HEADER = struct.Struct("<8sQ")  # magic, number of slots
SLOT = struct.Struct("<16sdQ")  # key digest, window end (seconds since the epoch), count
EMPTY = bytes(16)  # a slot never used: no key lies beyond it
# 65,536 slots of 32 bytes (2 MiB): room for every attendee's few keys at a large event.
SLOTS = 1 << 16
PROBES = 16  # neighbours looked at: bounds a hit's cost however full the table is
MAX_COUNT = 1 << 40  # more than any client could send in a window: a damaged slot
CLOCK_SLACK = 1.0  # seconds


def uri_for(path):
    return f"{SCHEME}://{quote(os.path.abspath(path))}"


def digest(key):
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


_open_storages = weakref.WeakSet()


def _after_fork():
    # A forked worker must open the file itself: a lock on a file descriptor it shares with its
    # parent would be its parent's lock too, and a thread lock copied mid-use stays locked.
    for storage in list(_open_storages):
        storage._forget()


os.register_at_fork(after_in_child=_after_fork)


class FileStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri, wrap_exceptions=False, slots=SLOTS, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = unquote(urlsplit(uri).path)
        if not self.path:
            raise ValueError(f"{SCHEME}:// needs a file: {SCHEME}:///path/to/{FILE_NAME}")
        self.slots = int(slots)  # for a new file; an existing one keeps its own
        self._forget()
        _open_storages.add(self)

    def _forget(self):
        self._thread_lock = threading.Lock()
        self._fd = self._map = None
        self._table_slots = self._size = 0

    @property
    def base_exceptions(self):
        return (OSError, ValueError, struct.error)

    # ---------------------------------------------------------------- the file

    def _open(self):
        self._close()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                slots = self._slots_of(fd)
                if slots is None:  # new, or not ours: start afresh
                    slots = self.slots
                    os.ftruncate(fd, 0)
                    os.ftruncate(fd, HEADER.size + slots * SLOT.size)
                    os.pwrite(fd, HEADER.pack(MAGIC, slots), 0)
                self._map = mmap.mmap(fd, HEADER.size + slots * SLOT.size)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._table_slots, self._size = fd, slots, HEADER.size + slots * SLOT.size

    @staticmethod
    def _slots_of(fd):
        """The file's number of slots, or None when it is not a whole table of ours."""
        magic, slots = HEADER.unpack(os.pread(fd, HEADER.size, 0).ljust(HEADER.size, b"\0"))
        if magic != MAGIC or not 0 < slots <= 1 << 24:
            return None
        return slots if os.fstat(fd).st_size == HEADER.size + slots * SLOT.size else None

    def _close(self):
        if self._map is not None:
            self._map.close()
        if self._fd is not None:
            os.close(self._fd)
        self._fd = self._map = None

    def _still_ours(self):
        # One fstat a hit: a file removed or replaced (no links left) would otherwise be counted
        # in apart from the other workers, and one cut short under the mapping crash this one.
        status = os.fstat(self._fd)
        return status.st_nlink > 0 and status.st_size == self._size and self._map[:8] == MAGIC

    def _acquire(self, exclusive=True):
        """The table, locked against this process's other threads and the other workers, until
        _release()."""
        self._thread_lock.acquire()
        try:
            if self._map is None:
                self._open()
            fcntl.flock(self._fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            if not self._still_ours():
                self._open()  # closing the old file let its lock go
                fcntl.flock(self._fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            return self._map
        except BaseException:
            self._close()
            self._thread_lock.release()
            raise

    def _release(self):
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _find(self, table, key_digest, now):
        """(offset, whether the slot holds this key, its window end, its count): the key's slot,
        else the first free one among its neighbours, else the one whose window ends soonest."""
        slots = self._table_slots
        start = int.from_bytes(key_digest[:8], "little") % slots
        free = soonest = None
        soonest_end = math.inf
        for probe in range(PROBES):
            offset = HEADER.size + (start + probe) % slots * SLOT.size
            held, ends, count = SLOT.unpack_from(table, offset)
            if held == key_digest:
                return offset, True, ends, count
            if held == EMPTY:
                return (offset if free is None else free), False, 0.0, 0
            if free is None and not ends > now:  # ended (or unreadable): free to take
                free = offset
            elif ends < soonest_end:
                soonest, soonest_end = offset, ends
        return (soonest if free is None else free), False, 0.0, 0

    # ---------------------------------------------------------------- the Storage interface

    def incr(self, key, expiry, amount=1):
        key_digest = digest(key)
        table = self._acquire()
        try:
            # Read under the lock: a time taken before waiting for it may be older than the
            # window another worker just started, which would then look impossible.
            now = time.time()
            offset, _, ends, count = self._find(table, key_digest, now)
            # A new window unless the slot's is running and believable (ends within its length,
            # give or take a clock that stepped back a little).
            if not (now < ends <= now + expiry + CLOCK_SLACK) or not 0 <= count < MAX_COUNT:
                ends, count = now + expiry, 0
            count += amount
            SLOT.pack_into(table, offset, key_digest, ends, count)
        finally:
            self._release()
        return count

    def _current(self, key):
        key_digest = digest(key)
        table = self._acquire(exclusive=False)
        try:
            now = time.time()
            _, mine, ends, count = self._find(table, key_digest, now)
        finally:
            self._release()
        return (ends, count) if mine and ends > now and 0 <= count < MAX_COUNT else (now, 0)

    def get(self, key):
        return self._current(key)[1]

    def get_expiry(self, key):
        return self._current(key)[0]

    def check(self):
        try:
            self._acquire(exclusive=False)
        except (OSError, ValueError):
            return False
        self._release()
        return True

    def clear(self, key):
        key_digest = digest(key)
        table = self._acquire()
        try:
            offset, mine, _, _ = self._find(table, key_digest, time.time())
            if mine:  # keeps the digest, so keys beyond it are still found
                SLOT.pack_into(table, offset, key_digest, 0.0, 0)
        finally:
            self._release()

    def reset(self):
        now = time.time()
        table = self._acquire()
        try:
            running = sum(1 for offset in range(HEADER.size, len(table), SLOT.size)
                          if SLOT.unpack_from(table, offset)[1] > now)
            table[HEADER.size:] = bytes(len(table) - HEADER.size)
        finally:
            self._release()
        return running
