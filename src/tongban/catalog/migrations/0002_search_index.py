"""Text index of the catalog (ADR 0002).

PostgreSQL: a stored generated column ``catalog_item.search_vector`` =
``to_tsvector('simple', search_document)`` with a GIN index. A bare expression index would find
rows, but ranking (ts_rank) would then parse every matching document again at query time
(measured: about 0.1 ms a document), so the vector is stored once when the text changes.
The column is maintained by PostgreSQL and unknown to the ORM.

SQLite: the FTS5 table ``catalog_item_fts`` (rowid = item id), written by
``catalog.search.reindex_items`` together with the column.
"""

from django.db import migrations

PG_COLUMN = "search_vector"
PG_INDEX = "catalog_item_search_gin"
FTS_TABLE = "catalog_item_fts"


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE catalog_item ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', search_document)) STORED"
        )
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON catalog_item USING gin ({PG_COLUMN})"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
            "USING fts5(search_document, tokenize = 'unicode61')"
        )
        schema_editor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, search_document) "
            "SELECT id, search_document FROM catalog_item"
        )


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        schema_editor.execute(f"ALTER TABLE catalog_item DROP COLUMN IF EXISTS {PG_COLUMN}")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
