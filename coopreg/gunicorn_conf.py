"""The app server's configuration: `gunicorn -c python:coopreg.gunicorn_conf
"coopreg:create_app()"`.

Sync workers answer one connection each: a few hundred idle or slow connections (a slow
phone network, or someone doing it on purpose) kept every worker waiting and even /health
went unanswered for 20 seconds. Threaded workers (gthread) wait for a connection's first
bytes in a poller, not in a worker, and give each request one of many threads, so idle
and slow clients cannot starve the others. On the Internet, put a buffering proxy in front
too (docs/deployment.md has an nginx configuration): it holds slow uploads itself and
hands gunicorn whole requests.

Every setting can be changed from the environment (COOPREG_WEB_*), or on the command line.
"""

from __future__ import annotations

import os

bind = os.environ.get("COOPREG_WEB_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("COOPREG_WEB_WORKERS", "3"))
# threads per worker: each request in progress, and each connection whose request is still
# arriving, holds one
threads = int(os.environ.get("COOPREG_WEB_THREADS", "256"))
# connections per worker, idle ones included (they wait in the poller, not in a thread)
worker_connections = int(os.environ.get("COOPREG_WEB_CONNECTIONS", "1000"))
keepalive = 5  # seconds an idle kept-alive connection stays open
timeout = int(os.environ.get("COOPREG_WEB_TIMEOUT", "120"))  # a stuck worker is restarted
graceful_timeout = 30
# no request line or header larger than these (gunicorn's defaults, stated)
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
