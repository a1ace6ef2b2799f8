"""Fill empty msgstr entries of a .po file from a {msgid: translation} table.

Usage (from Python): fill("core/locale/zh_Hans/LC_MESSAGES/django.po", {"Home": "首页"}).
Only untranslated entries are touched; fuzzy markers on filled entries are removed.
"""

import re
from pathlib import Path

ENTRY = re.compile(r'((?:#[^\n]*\n)*)msgid ((?:"(?:[^"\\]|\\.)*"\n)+)msgstr ""\n(?!")')


def _unquote(block):
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', block)
    return "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fill(path, table):
    """Fill the file's untranslated entries found in ``table``; returns the msgids still empty."""
    source = Path(path).read_text(encoding="utf-8")
    missing = []

    def replace(match):
        comments, msgid_block = match.group(1), match.group(2)
        msgid = _unquote(msgid_block)
        if msgid == "":
            return match.group(0)
        if msgid not in table:
            missing.append(msgid)
            return match.group(0)
        comments = "".join(line + "\n" for line in comments.splitlines() if "fuzzy" not in line)
        return f"{comments}msgid {msgid_block}msgstr {_quote(table[msgid])}\n"

    Path(path).write_text(ENTRY.sub(replace, source), encoding="utf-8")
    return missing
