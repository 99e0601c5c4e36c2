"""Full-text search of the catalog: tokens of an item, query normalization, both storage engines.

Text is matched at the item level (ADR 0002): an item's name, code and type are identical in every
region, so ``Item.search_document`` holds its space-separated tokens and implementations are
reached afterwards by index-backed joins (``catalog.queries.search``).

Tokens of an item (:func:`tokens_for_item`)
    Every dictionary word that occurs anywhere in the item's name, keywords, theme names and
    translated names (not only the words of one segmentation, so a query segmented differently
    still meets them), the whole name, the item code, and for each Chinese word its full pinyin
    and initials (婚姻 → ``hunyin`` / ``hy``), plus those of the whole name (``hunyindengji`` /
    ``hydj``). Lower case, deduplicated. Legal basis and description are left out: they are prose
    and would make every licensing item match "许可".

Storage
    PostgreSQL: the stored generated column ``search_vector`` =
    ``to_tsvector('simple', search_document)`` with a GIN index (migration ``search_index``),
    queried with ``to_tsquery('simple', %s)``. SQLite: the FTS5 table
    ``catalog_item_fts`` (rowid = item id), written by :func:`reindex_items` together with the
    column. Both are reached through :func:`match_sql`.

Who calls what
    After saving items, their themes or keywords: ``reindex_items(items)``; after loading a
    catalog in bulk: ``reindex_items(Item.objects.all())`` (or the ``reindex_catalog`` command).
    Nothing re-indexes by signal.
"""

from __future__ import annotations

import enum
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Item, Synonym

FTS_TABLE = "catalog_item_fts"
REINDEX_BATCH_SIZE = 500
MAX_QUERY_LENGTH = 100  # characters of user input considered
MAX_QUERY_TERMS = 8  # terms beyond these are ignored: each adds an AND to the text query
_LONGEST_WORD = 12  # longest dictionary word looked for inside a text

# Words people type around the service they mean (怎么办护照 → 护照). Dropped from a query unless
# the query has nothing else.
_STOP_WORDS_TEXT = """
的 了 和 与 及 或 在 我 我要 我想 想 要 怎么 怎么办 怎样 如何 哪里 在哪 去哪 哪儿 吗 呢 啊
办 办理 去 到 需要 什么 请问 一下
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_IS_CJK = re.compile(f"^[{_CJK}]+$")
_NON_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, tsquery and FTS5 syntax alike


class SearchErrorCode(enum.StrEnum):
    INVALID_REGION = "invalid_region"
    INVALID_AUDIENCE = "invalid_audience"
    INVALID_DEPTH = "invalid_depth"
    INVALID_ORGANIZATION = "invalid_organization"
    INVALID_THEME = "invalid_theme"
    INVALID_PAGE = "invalid_page"
    INVALID_PAGE_SIZE = "invalid_page_size"
    QUERY_TOO_LONG = "query_too_long"


SEARCH_ERROR_MESSAGES = {
    SearchErrorCode.INVALID_REGION: _("区划代码应为6位或12位数字"),
    SearchErrorCode.INVALID_AUDIENCE: _("服务对象代码无效"),
    SearchErrorCode.INVALID_DEPTH: _("网上办理深度应为1至4"),
    SearchErrorCode.INVALID_ORGANIZATION: _("部门编号无效"),
    SearchErrorCode.INVALID_THEME: _("主题编码无效"),
    SearchErrorCode.INVALID_PAGE: _("页码应为1到500之间的整数"),
    SearchErrorCode.INVALID_PAGE_SIZE: _("每页条数超出允许范围"),
    SearchErrorCode.QUERY_TOO_LONG: _("检索词过长"),
}


class SearchError(ValueError):
    """A search parameter is unusable: ``code`` is machine-readable, ``field`` names the
    parameter, ``message`` is the Chinese text to show."""

    def __init__(self, code: SearchErrorCode, field: str):
        self.code = code
        self.field = field
        self.message = SEARCH_ERROR_MESSAGES[code]
        super().__init__(f"{code}: {field}")


# --------------------------------------------------------------------------------------------
# jieba, once per process


class _Segmenter:
    """A jieba tokenizer loaded once per process (thread-safe, lazy), its cache under VAR_DIR.

    The catalog's own words (item names, synonym terms) are added to its dictionary by
    :func:`add_catalog_words`, so that 婚姻登记 or 公积金 come out as one word.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    import logging

                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    cache_dir = Path(settings.VAR_DIR) / "cache"
                    try:
                        cache_dir.mkdir(parents=True, exist_ok=True)
                        tokenizer.tmp_dir = str(cache_dir)
                    except OSError:  # read-only VAR_DIR: jieba falls back to the system tmp
                        pass
                    tokenizer.initialize()
                    self._tokenizer = tokenizer
        return self._tokenizer

    def cut(self, text: str) -> list[str]:
        return list(self.tokenizer.cut(text, HMM=False))

    def is_word(self, word: str) -> bool:
        return bool(self.tokenizer.FREQ.get(word))

    def add_words(self, words: Iterable[str]) -> None:
        tokenizer = self.tokenizer
        with self._lock:
            for word in words:
                word = _NON_WORD.sub("", word)
                if len(word) >= 2 and not tokenizer.FREQ.get(word):
                    tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word), 10))


segmenter = _Segmenter()


def add_catalog_words(words: Iterable[str]) -> None:
    """Teach the segmenter words of the catalog (item names, synonym terms)."""
    segmenter.add_words(words)


# --------------------------------------------------------------------------------------------
# Indexing


@lru_cache(maxsize=65536)
def _pinyin(word: str) -> tuple[str, str]:
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full, initials


def _clean(text: str) -> str:
    """NFKC (full width → half width), lower case, traditional → simplified."""
    return _t2s(unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=1)
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


def _t2s(text: str) -> str:
    return _opencc().convert(text) if _CJK_RUN.search(text) else text


_PIECES = re.compile(f"[{_CJK}]+|[^{_CJK}]+")


def _words_in(text: str) -> list[str]:
    """Every dictionary word anywhere in a text (a superset of jieba's ``cut_for_search``: a
    query segmented differently still meets its words), the segmenter's own words (single
    characters where it knows no word) and the latin and digit words."""
    words: list[str] = []
    for chunk in _NON_WORD.sub(" ", text).split():
        for piece in _PIECES.findall(chunk):
            if not _IS_CJK.match(piece):
                words.append(piece)
                continue
            n = len(piece)
            for i in range(n):
                for j in range(i + 2, min(n, i + _LONGEST_WORD) + 1):
                    if segmenter.is_word(piece[i:j]):
                        words.append(piece[i:j])
            words.extend(segmenter.cut(piece))
    return words


def tokens_for_item(
    item: Item,
    *,
    theme_names: Iterable[str] | None = None,
    translations: Iterable[str] | None = None,
) -> str:
    """The search document of an item: space-separated, lower-case, deduplicated tokens.

    ``theme_names`` and ``translations`` (translated item names) default to the item's own
    (read through ``item.themes`` / ``item.translations``); pass them when indexing in bulk.
    """
    if theme_names is None:
        theme_names = [t.name for t in item.themes.all()] if item.pk else []
    if translations is None:
        translations = [t.name for t in item.translations.all()] if item.pk else []
    name = _clean(item.name)
    texts = [name, _clean(item.keywords or ""), *(_clean(t) for t in theme_names)]
    tokens: dict[str, None] = {}

    def add(token: str) -> None:
        if token:
            tokens.setdefault(token, None)

    compact_name = _NON_WORD.sub("", name)
    add(compact_name)
    add(_NON_WORD.sub("", item.code.lower()))
    for text in texts:
        for word in _words_in(text):
            add(word)
            if _IS_CJK.match(word):
                full, initials = _pinyin(word)
                add(full)
                if len(word) > 1:
                    add(initials)
    if _CJK_RUN.search(compact_name):
        full, initials = _pinyin(compact_name)
        add(full)
        add(initials)
    for text in translations:
        for word in _NON_WORD.sub(" ", _clean(text)).split():
            add(word)
    return " ".join(tokens)


def reindex_items(
    items: Iterable[Item] | None = None, *, batch_size: int = REINDEX_BATCH_SIZE
) -> int:
    """Recompute ``search_document`` of the given items (a queryset, a list, or all when None)
    and write the text index, in batches, each batch in one transaction. Returns the count.

    Call it after creating or changing items, their keywords, themes or translations.
    """
    from django.db.models import QuerySet

    if items is None:
        items = Item.objects.all()
    if isinstance(items, QuerySet):
        ids = list(items.values_list("pk", flat=True))
    else:
        ids = [item.pk for item in items]
    done = 0
    for start in range(0, len(ids), batch_size):
        batch_ids = ids[start : start + batch_size]
        batch = list(
            Item.objects.filter(pk__in=batch_ids)
            .only("pk", "code", "name", "keywords")
            .prefetch_related("themes", "translations")
        )
        add_catalog_words(item.name for item in batch)
        for item in batch:
            item.search_document = tokens_for_item(
                item,
                theme_names=[t.name for t in item.themes.all()],
                translations=[t.name for t in item.translations.all()],
            )
        with transaction.atomic():
            Item.objects.bulk_update(batch, ["search_document"], batch_size=batch_size)
            if connection.vendor == "sqlite":
                _write_fts(batch)
        done += len(batch)
    return done


def _write_fts(items: list[Item]) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            f"DELETE FROM {FTS_TABLE} WHERE rowid = %s",  # noqa: S608 (a constant table name)
            [(item.pk,) for item in items],
        )
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, search_document) VALUES (%s, %s)",  # noqa: S608
            [(item.pk, item.search_document) for item in items],
        )


def rebuild_text_index() -> None:
    """SQLite: rebuild ``catalog_item_fts`` from ``catalog_item.search_document`` (drops rows of
    deleted items). PostgreSQL's expression index needs nothing."""
    if connection.vendor != "sqlite":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, search_document) "  # noqa: S608
            "SELECT id, search_document FROM catalog_item"
        )


_catalog_words_lock = threading.Lock()
_catalog_words_loaded = False


def load_catalog_words(*, force: bool = False) -> None:
    """Add every active item name and synonym term to the segmenter: once per process, on the
    first query (one database query), or again with ``force``. Words added later by another
    process are still found: a query word also matches through its smaller words."""
    global _catalog_words_loaded
    if _catalog_words_loaded and not force:
        return
    with _catalog_words_lock:
        if _catalog_words_loaded and not force:
            return
        names = Item.objects.filter(is_active=True).order_by().values_list("name", flat=True)
        terms = Synonym.objects.order_by().values_list("term", flat=True)
        add_catalog_words(names.union(terms, all=True))
        _catalog_words_loaded = True


# --------------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class QueryTerm:
    """One word of a query: matches when any alternative matches; an alternative is a group of
    tokens that must all occur. ``prefix`` makes the first alternative's last token a prefix."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False


def _smaller_words(word: str) -> tuple[str, ...]:
    """The dictionary words of two and three characters inside a longer word (婚姻登记 → 婚姻,
    登记): any text that contains the word contains these too."""
    if len(word) < 3 or not _IS_CJK.match(word):
        return ()
    pieces = segmenter.tokenizer.cut_for_search(word, HMM=False)
    return tuple(dict.fromkeys(p for p in pieces if p != word and len(p) >= 2))


def _query_words(text: str) -> list[str]:
    words: list[str] = []
    for chunk in _NON_WORD.sub(" ", text).split():
        if _CJK_RUN.search(chunk):
            words.extend(w for w in segmenter.cut(chunk) if w.strip())
        else:
            words.append(chunk)
    return words


def _synonyms(terms: list[str]) -> dict[str, str]:
    """The operator's expansions of these terms (one indexed query, without ORM overhead)."""
    table = Synonym._meta.db_table
    placeholders = ", ".join(["%s"] * len(terms))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term, expansions FROM {table} WHERE term IN ({placeholders})",  # noqa: S608
            terms,
        )
        return dict(cursor.fetchall())


def normalize_query(q: str) -> list[QueryTerm]:
    """Turn what a person typed into terms: NFKC (full → half width), lower case, OpenCC
    traditional → simplified, punctuation removed (so tsquery / FTS5 syntax cannot pass), jieba
    words for Chinese, latin and digit tokens (pinyin, initials, codes) kept, stop words dropped
    unless nothing else is left, at most ``MAX_QUERY_TERMS`` terms, each expanded by the
    operator's synonyms (one query). The last term, and any single Chinese character, match as
    prefixes (as-you-type; 婚 finds 婚姻登记).
    """
    text = _clean((q or "")[:MAX_QUERY_LENGTH])
    if not _NON_WORD.sub("", text):
        return []
    load_catalog_words()
    words = list(dict.fromkeys(_query_words(text)))
    meaningful = [w for w in words if w not in STOP_WORDS]
    words = (meaningful or words)[:MAX_QUERY_TERMS]
    if not words:
        return []
    compact = "".join(words)
    lookup = {*words, compact}
    synonyms = _synonyms(sorted(lookup))
    if compact in synonyms and len(words) > 1:
        words = [compact]  # the whole query is a phrase the operator knows (办结婚证)
    terms: list[QueryTerm] = []
    for index, word in enumerate(words):
        alternatives: list[tuple[str, ...]] = [(word,)]
        smaller = _smaller_words(word)
        if smaller:
            alternatives.append(smaller)
        for expansion in (synonyms.get(word) or "").split():
            group = tuple(dict.fromkeys(_query_words(_clean(expansion))))
            if group and group not in alternatives:
                alternatives.append(group)
        prefix = index == len(words) - 1 or (len(word) == 1 and bool(_IS_CJK.match(word)))
        terms.append(QueryTerm(text=word, alternatives=tuple(alternatives), prefix=prefix))
    return terms


def _tsquery_token(token: str, prefix: bool) -> str:
    escaped = token.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'" + (":*" if prefix else "")


def _fts5_token(token: str, prefix: bool) -> str:
    return '"' + token.replace('"', '""') + '"' + ("*" if prefix else "")


def _render(terms: list[QueryTerm], quote, and_: str, or_: str) -> str:
    rendered = []
    for term in terms:
        alternatives = []
        for position, group in enumerate(term.alternatives):
            parts = [
                quote(token, term.prefix and position == 0 and i == len(group) - 1)
                for i, token in enumerate(group)
            ]
            alternatives.append("(" + f" {and_} ".join(parts) + ")")
        rendered.append("(" + f" {or_} ".join(alternatives) + ")")
    return f" {and_} ".join(rendered)


def tsquery_text(terms: list[QueryTerm]) -> str:
    """The argument of ``to_tsquery('simple', %s)``: every lexeme quoted, passed as a parameter."""
    return _render(terms, _tsquery_token, "&", "|")


def fts5_query_text(terms: list[QueryTerm]) -> str:
    """The argument of FTS5 ``MATCH %s``: every token a quoted string."""
    return _render(terms, _fts5_token, "AND", "OR")


@dataclass(frozen=True)
class TextMatch:
    """SQL pieces matching items (aliased ``i``) against a query, for one database vendor.

    ``from_sql`` is joined after ``catalog_item i``; ``where_sql`` restricts; ``rank_sql`` is a
    positive relevance (bigger is better). Each comes with its parameters.
    """

    from_sql: str
    from_params: tuple
    where_sql: str
    where_params: tuple
    rank_sql: str
    rank_params: tuple


def match_sql(terms: list[QueryTerm]) -> TextMatch:
    """The one switch between PostgreSQL (GIN over the stored tsvector) and SQLite (FTS5).
    User text only ever travels as a parameter."""
    if connection.vendor == "postgresql":
        query = tsquery_text(terms)
        vector = "i.search_vector"  # to_tsvector('simple', search_document), stored
        return TextMatch(
            from_sql="",
            from_params=(),
            where_sql=f"{vector} @@ to_tsquery('simple', %s)",
            where_params=(query,),
            rank_sql=f"ts_rank({vector}, to_tsquery('simple', %s))",
            rank_params=(query,),
        )
    if connection.vendor == "sqlite":
        return TextMatch(
            from_sql=f" JOIN {FTS_TABLE} ON {FTS_TABLE}.rowid = i.id",
            from_params=(),
            where_sql=f"{FTS_TABLE} MATCH %s",
            where_params=(fts5_query_text(terms),),
            rank_sql=f"(-bm25({FTS_TABLE}))",
            rank_params=(),
        )
    raise NotImplementedError(f"catalog search does not support {connection.vendor}")
