"""What search counts, kept cheap to count on PostgreSQL (issue 2: p95 at 600,000 rows).

A search result counts the published implementations of up to 200 items (``total``). Read from
the table, that is every implementation of every candidate item: 20,000 heap rows for 社保 at
600,000 implementations, growing with the catalog. Three PostgreSQL objects make it cheap:

``impl_published``
    A partial covering index of active implementations, (item_id, region_code) carrying the
    effective dates, organization, depth, popularity and id: counts and probes by item and region
    scope become index-only scans, and each region scope is one tight range of it.

``catalog_item.active_undated_count``
    Per item, its implementations with status active and no effective dates (the ones whose
    published state does not move with the calendar), maintained by statement triggers on
    ``catalog_implementation`` (insert, update, delete, truncate), so every write path is
    covered: services, admin, Excel import, COPY of the synthetic catalog, raw SQL. Search
    without a region, organization or depth filter counts ``active_undated_count`` plus the
    dated active implementations whose dates include today (``impl_published_dated``, usually
    none), instead of reading every implementation. The column is unknown to the ORM (as
    ``search_vector``): the model and its migrations state do not change.

``region_code`` also gets a finer histogram (statistics target 1000) so that township ranges are
not estimated at one row.

SQLite (the embedded single-office database) keeps counting rows; nothing is added there.
"""

# ruff: noqa: S608  (constant SQL: no user input reaches this migration)
from django.db import migrations

ACTIVE = "active"  # ImplementationStatus.ACTIVE, frozen as of this migration
COLUMN = "active_undated_count"
FUNCTION = "catalog_item_active_undated_count"
UNDATED = f"status = '{ACTIVE}' AND effective_from IS NULL AND effective_to IS NULL"

_DELTA = {
    "INSERT": f"SELECT item_id, 1 AS n FROM new_rows WHERE {UNDATED}",
    "DELETE": f"SELECT item_id, -1 AS n FROM old_rows WHERE {UNDATED}",
    "UPDATE": (
        f"SELECT item_id, 1 AS n FROM new_rows WHERE {UNDATED} "
        f"UNION ALL SELECT item_id, -1 AS n FROM old_rows WHERE {UNDATED}"
    ),
}


def _apply(delta: str) -> str:
    # Item rows are updated one by one in id order: concurrent writers lock them in the same
    # order (no deadlock), and an unchanged item is not touched.
    return (
        "FOR r IN SELECT d.item_id, sum(d.n) AS n "
        f"FROM ({delta}) d GROUP BY d.item_id HAVING sum(d.n) <> 0 ORDER BY d.item_id LOOP "
        f"UPDATE catalog_item SET {COLUMN} = {COLUMN} + r.n WHERE id = r.item_id; "
        "END LOOP;"
    )


FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  IF TG_OP = 'INSERT' THEN {_apply(_DELTA["INSERT"])}
  ELSIF TG_OP = 'DELETE' THEN {_apply(_DELTA["DELETE"])}
  ELSIF TG_OP = 'UPDATE' THEN {_apply(_DELTA["UPDATE"])}
  ELSIF TG_OP = 'TRUNCATE' THEN
    UPDATE catalog_item SET {COLUMN} = 0 WHERE {COLUMN} <> 0;
  END IF;
  RETURN NULL;
END $$
"""

TRIGGERS = {
    "catalog_impl_count_insert": "AFTER INSERT ON catalog_implementation "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "catalog_impl_count_update": "AFTER UPDATE ON catalog_implementation "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "catalog_impl_count_delete": "AFTER DELETE ON catalog_implementation "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "catalog_impl_count_truncate": "AFTER TRUNCATE ON catalog_implementation FOR EACH STATEMENT",
}

INDEXES = {
    "impl_published": (
        "ON catalog_implementation (item_id, region_code) INCLUDE (effective_from, effective_to, "
        f"organization_id, online_depth, popularity, id) WHERE status = '{ACTIVE}'"
    ),
    "impl_published_dated": (
        "ON catalog_implementation (item_id) INCLUDE (effective_from, effective_to, region_code) "
        f"WHERE status = '{ACTIVE}' AND (effective_from IS NOT NULL OR effective_to IS NOT NULL)"
    ),
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    for name, definition in INDEXES.items():
        execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")
    # Township ranges (150602001…) are a sliver of the default histogram: estimated at one row,
    # they steered the planner to the (region_code, status, popularity) index.
    execute("ALTER TABLE catalog_implementation ALTER COLUMN region_code SET STATISTICS 1000")
    execute(
        f"ALTER TABLE catalog_item ADD COLUMN IF NOT EXISTS {COLUMN} integer NOT NULL DEFAULT 0"
    )
    execute(FUNCTION_SQL)
    # No write may fall between the count below and the triggers taking over.
    execute("LOCK TABLE catalog_implementation IN SHARE MODE")
    for name, definition in TRIGGERS.items():
        execute(f"DROP TRIGGER IF EXISTS {name} ON catalog_implementation")
        execute(f"CREATE TRIGGER {name} {definition} EXECUTE FUNCTION {FUNCTION}()")
    execute(
        f"UPDATE catalog_item i SET {COLUMN} = coalesce(c.n, 0) FROM catalog_item i2 "
        "LEFT JOIN (SELECT item_id, count(*) AS n FROM catalog_implementation "
        f"WHERE {UNDATED} GROUP BY item_id) c ON c.item_id = i2.id "
        f"WHERE i2.id = i.id AND i.{COLUMN} IS DISTINCT FROM coalesce(c.n, 0)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    for name in TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {name} ON catalog_implementation")
    execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    execute("ALTER TABLE catalog_implementation ALTER COLUMN region_code SET STATISTICS -1")
    execute(f"ALTER TABLE catalog_item DROP COLUMN IF EXISTS {COLUMN}")
    for name in INDEXES:
        execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
