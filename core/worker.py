"""In-process jobs off the request: one worker thread of the web process (no Redis).

The embedded default has no Celery worker, so the web process runs jobs itself. Running them
inside the request held a click for minutes; here the request only queues the job and answers,
and one thread runs the queued jobs one at a time (SQLite has one writer anyway).

Only the web process turns the thread on (``config/wsgi.py``). Management commands and tests
run in-process jobs in the calling thread, so a command exits only when its jobs are done and
a test sees a job finished as soon as it was queued.
"""

import logging
import queue
import threading

from django.db import connections

logger = logging.getLogger(__name__)

_queue = queue.Queue()
_lock = threading.Lock()
_thread = None
_enabled = False


def enable():
    """Run in-process jobs on the worker thread from now on (the web process calls this)."""
    global _enabled
    _enabled = True


def disable():
    global _enabled
    _enabled = False


def enabled():
    return _enabled


def submit(func, job_id):
    """Queue ``func(job_id)`` for the worker thread, starting the thread on first use."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="rongxie-jobs", daemon=True)
            _thread.start()
    _queue.put((func, job_id))


def drain():
    """Wait until every queued job has run (tests; anything that must not leave work behind)."""
    _queue.join()


def _loop():
    while True:
        func, job_id = _queue.get()
        try:
            func(job_id)
        except Exception:
            logger.exception("in-process job %s failed outside its handler", job_id)
        finally:
            # This thread's own connections: a new job starts on a fresh one.
            connections.close_all()
            _queue.task_done()
