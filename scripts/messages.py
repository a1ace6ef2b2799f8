"""`make messages`: refresh every catalogue, fill the English one, compile all.

Each app keeps its own catalogue in <app>/locale/; templates/ and config/ use locale/.
Source strings are English; zh_Hans holds the Chinese. Then edit the zh_Hans .po files
(empty msgstr = untranslated; tests/test_translations.py lists them) and run this again.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["core", "accounts", "enterprises", "banks", "loans", "screening", "visits", "dashboards"]
# -P: run from inside an app without its modules (e.g. selectors.py) shadowing the stdlib.
DJANGO_ADMIN = [sys.executable, "-P", "-m", "django"]


def run(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def main():
    make = [
        *DJANGO_ADMIN,
        "makemessages",
        "-l",
        "zh_Hans",
        "-l",
        "en",
        "--no-obsolete",
        "--no-location",
    ]
    for app in APPS:
        run([*make, "--ignore", "migrations/*"], cwd=ROOT / app)
    ignores = [
        f"--ignore={name}/*"
        for name in [
            *APPS,
            ".venv",
            "static",
            "staticfiles",
            "tests",
            "benchmarks",
            "var",
            "scripts",
        ]
    ]
    run([*make, *ignores], cwd=ROOT)
    # English is the source language: its catalogue maps each string to itself. Empty every
    # msgstr first (msgmerge's fuzzy guesses included), then let msgen copy each msgid over.
    for po in ROOT.glob("**/locale/en/LC_MESSAGES/django.po"):
        if ".venv" not in po.parts:
            path = str(po)
            subprocess.run(
                ["msgfilter", "-i", path, "-o", path, "--keep-header", "sed", "-e", "d"], check=True
            )
            subprocess.run(["msgattrib", "--clear-fuzzy", "-o", path, path], check=True)
            subprocess.run(["msgen", "-o", path, path], check=True)
    for cwd in [ROOT / app for app in APPS] + [ROOT]:
        run([*DJANGO_ADMIN, "compilemessages", "--ignore=.venv"], cwd=cwd)


if __name__ == "__main__":
    main()
