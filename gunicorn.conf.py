"""gunicorn reads this file from the working directory (`gunicorn config.wsgi`).

Request lines up to gunicorn's maximum pass through, so the app itself answers an over-long
API URL with its JSON 414 (tokens.middleware.MAX_API_URL_LENGTH); only lines past 8190
bytes get gunicorn's own plain-text 414."""

limit_request_line = 8190


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR (config/metrics.py), drop a dead worker's live gauges."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Write the usage counters this worker still holds (tokens/usage.py; atexit does too)."""
    try:
        from tokens import usage

        usage.flush()
    except Exception:  # the worker is going away: never fail its exit
        server.log.warning("usage counters of worker %s not written", worker.pid)
