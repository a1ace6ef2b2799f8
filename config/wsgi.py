import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Without Redis this web process runs the jobs itself: on a worker thread, off the request.
from core import jobs  # noqa: E402

jobs.serve_in_process_jobs()
