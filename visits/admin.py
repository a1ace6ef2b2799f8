from . import recommendation_admin  # noqa: F401
