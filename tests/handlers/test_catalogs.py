"""The zh and en catalogs agree key for key and placeholder for placeholder."""

import pytest

from handlers.i18n import LANGUAGES, Catalog, placeholders

CATALOG = Catalog.load()


def test_every_key_exists_in_every_language() -> None:
    """A key missing in one language would show a traceback to someone."""
    keys = {lang: set(CATALOG.messages[lang]) for lang in LANGUAGES}
    for lang in LANGUAGES:
        for other in LANGUAGES:
            missing = keys[other] - keys[lang]
            assert not missing, f"{lang} lacks {sorted(missing)}"


@pytest.mark.parametrize("key", sorted(Catalog.load().messages["en"]))
def test_placeholders_match(key: str) -> None:
    """Each message expects the same values in every language."""
    expected = placeholders(CATALOG.messages["en"][key])
    for lang in LANGUAGES:
        assert placeholders(CATALOG.messages[lang][key]) == expected, (lang, key)


def test_language_choice_falls_back_in_order() -> None:
    """Stored choice, then Telegram's language_code, then the default."""
    assert CATALOG.language_for("en", "zh-hans") == "en"
    assert CATALOG.language_for(None, "zh-hans") == "zh"
    assert CATALOG.language_for(None, "en-GB") == "en"
    assert CATALOG.language_for(None, "fr") == "zh"
    assert CATALOG.language_for(None, None) == "zh"


def test_a_missing_key_is_a_loud_error() -> None:
    """Unknown keys raise rather than sending an empty message."""
    with pytest.raises(KeyError):
        CATALOG.text("en", "no.such.key")
