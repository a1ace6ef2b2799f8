from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo county (平阳县): files in the import contract's formats, loaded through the
    pipeline, and one user per role. It drives every app, so it sits above all of them."""

    name = "demo"
    verbose_name = "Demo"
