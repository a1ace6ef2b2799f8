"""Text saved by background work, readable in every language of the site.

Jobs and imports write progress steps and row-error reasons while no user's language is
active (a worker, a thread, the command line). Saving only the text of the site's default
language would show Chinese in the English UI. So such text is kept in every language of
``settings.LANGUAGES`` when it is saved, and shown in the reader's language.

The text must still be lazy when it is saved: ``gettext_lazy``, and ``format_lazy`` for text
with values in it (``_("…{n}…").format(n=…)`` would freeze it in one language).
"""

from django.conf import settings
from django.utils import translation


def in_every_language(text, max_length=None):
    """{language code: text} of a (lazy) text in each language of the site."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            value = str(text)
        texts[code] = value[:max_length] if max_length else value
    return texts


def localized(default, translations):
    """The text in the active language, else ``default`` (saved before translations were)."""
    if translations:
        return translations.get(translation.get_language(), default)
    return default
