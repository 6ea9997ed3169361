"""Report and chart text in English and Chinese: user-facing words live in ``messages/*.yml``.

Public names: ``LANGS``, ``check_lang``, ``t``, ``MESSAGES``.

``t(key, lang, **fmt)`` looks a message up and fills its ``{placeholders}`` with
``str.format`` (so a literal brace is written doubled). An unknown language or key raises,
so a missing translation fails a test instead of showing a key to a reader. Stage names
are not here: they belong to the user-editable settings (``config.Settings.stage_labels``).
"""

from __future__ import annotations

import yaml

from . import config

__all__ = ["LANGS", "check_lang", "t", "MESSAGES"]

LANGS = ("en", "zh")

MESSAGES_DIR = config.MESSAGES_DIR
#: libyaml's loader when PyYAML was built with it (the same result, several times faster: the
#: messages are read at every start of the command line)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_messages() -> dict[str, dict[str, str]]:
    """Merge ``messages/*.yml`` (one file per report domain); a key defined twice is an error."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(MESSAGES_DIR.glob("*.yml")):
        for key, texts in (yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}).items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice (again in {path.name})")
            merged[key] = texts
    return merged


MESSAGES: dict[str, dict[str, str]] = _load_messages()


def check_lang(lang: str) -> str:
    """Return ``lang`` when it is a supported report language; raise ``ValueError`` otherwise."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not supported; use one of: {', '.join(LANGS)}")
    return lang


def t(key: str, lang: str, **fmt: object) -> str:
    """The message ``key`` in ``lang``, with ``{placeholders}`` filled from ``fmt``."""
    check_lang(lang)
    try:
        template = MESSAGES[key][lang]
    except KeyError:
        raise KeyError(f"no {lang} text for message {key!r}") from None
    return template.format(**fmt)
