"""The languages coopreg speaks, in one place: its pages, each user's choice, the cooperative's
default and the documents a member takes home. Each is named in itself ("Español"), so a
person finds their own language whatever the page's."""

from __future__ import annotations

LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português"}
LANGUAGES = tuple(LANGUAGE_NAMES)
