"""Request middleware shared by every channel."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Chinese unless the person chose another language (the language cookie).

    Django's LocaleMiddleware also follows the browser's Accept-Language header. A government
    portal does not: a phone set to English still opens the Chinese portal (zh-Hans is the
    platform's language of record, ARCHITECTURE.md), and English or traditional Mongolian is the
    person's explicit choice, kept in the cookie that the language switch sets.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
