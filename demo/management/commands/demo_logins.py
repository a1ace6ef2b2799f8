from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from demo import services as demo


def open_url(address):
    """The URL to open for runserver's ``address`` ("8000", "0.0.0.0:8000", "[::]:8000", ...)."""
    host, _sep, port = address.rpartition(":")
    if not host:
        host, port = ("127.0.0.1", address) if address.isdigit() else (address, "8000")
    if host in ("0.0.0.0", "[::]", ""):
        host = "127.0.0.1"  # listening everywhere: this machine answers on its loopback too
    return f"http://{host}:{port}/"


class Command(BaseCommand):
    help = "Print the demo logins (one per role)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--address", default="127.0.0.1:8000", help="runserver's address (make run: HOST)."
        )

    def handle(self, *args, address, **options):
        self.stdout.write("\nRongxie 融协 demo logins · password for all: " + demo.DEMO_PASSWORD)
        for username, *_rest in demo.DEMO_USERS:
            user = User.objects.filter(username=username).select_related("region", "bank").first()
            if user is None:
                continue
            where = user.region.name if user.region else (user.bank.name if user.bank else "全部")
            self.stdout.write(f"  {username:<10} {user.get_role_display():<12} {where}")
        partner = User.objects.filter(username="partner").first()
        if partner is not None:
            from rest_framework.authtoken.models import Token

            token, _created = Token.objects.get_or_create(user=partner)
            self.stdout.write(f"  partner API token: {token.key}  (Authorization: Token …)")
        database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite (embedded)"
        jobs = "Celery on Redis" if settings.REDIS_URL else "in-process"
        self.stdout.write(f"\nDatabase: {database}; jobs: {jobs}; open {open_url(address)}\n")
