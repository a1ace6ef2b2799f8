"""The production static build: every vendored file and every file it names is there."""

import json

import pytest
from django.core.management import call_command

# The production storage (whitenoise) adds compression on top of this one; the manifest
# step is what fails when a vendored file names a file that is not vendored (a source map).
MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


@pytest.fixture
def manifest_storage(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    return tmp_path


def test_collectstatic_with_the_manifest_succeeds_and_names_every_vendored_file(
    manifest_storage,
):
    call_command("collectstatic", "--noinput", verbosity=0)
    paths = json.loads((manifest_storage / "staticfiles.json").read_text())["paths"]
    for name in (
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "vendor/bootstrap/bootstrap.bundle.min.js.map",
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.min.css.map",
        "vendor/bootstrap-icons/bootstrap-icons.min.css",
        "vendor/htmx/htmx.min.js",
        "vendor/echarts/echarts.min.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ):
        assert name in paths, name
    # The hashed bundle points at the hashed map, so browsers' dev tools find it.
    bundle = (manifest_storage / paths["vendor/bootstrap/bootstrap.bundle.min.js"]).read_text()
    map_name = paths["vendor/bootstrap/bootstrap.bundle.min.js.map"].rsplit("/", 1)[1]
    assert bundle.rstrip().endswith(f"//# sourceMappingURL={map_name}")
