-- What the local stack adds to FerretDB's PostgreSQL database (installed by `stack up`, every time,
-- before FerretDB starts; idempotent). FerretDB v1 keeps each MongoDB database in a schema holding
-- a `_ferretdb_database_metadata` table, and each collection in a table of that schema with one
-- `_jsonb` column. Why: README.md, "The local stack".
--
-- 1. A version check. FerretDB's update and findAndModify read the document, apply the update in
--    Go, then `UPDATE … SET _jsonb = $1 WHERE _jsonb->'_id' = $2`: the filter is not part of the
--    write, so two racing conditional updates can both "succeed". A BEFORE UPDATE trigger on every
--    collection table refuses a write whose `v` is not the stored `v` + 1 (SQLSTATE 40001,
--    serialization_failure), so a versioned write (`$inc: {v: 1}`) that raced another one fails
--    instead of overwriting it, and the application retries it on the new state. Documents without
--    a numeric `v` are not checked.
-- 2. Index translation. FerretDB pushes an equality filter down as `_jsonb->'f' @> '<json>'`
--    (`_jsonb#>'{a,b}' @> …` for a dotted path), which its btree expression indexes cannot serve:
--    upstream, every `{_id: x}` lookup is a sequential scan. The stack's build sends
--    `_jsonb->'_id' = …` for an _id (ferretdb-v1.24.2.patch), which the unique btree index on _id
--    serves. For each other btree index FerretDB creates, the same first key gets a GIN
--    `jsonb_path_ops` index, which `@>` uses. Without GIN's pending list
--    (fastupdate = off): with it, freshly inserted rows are searched linearly until a vacuum,
--    and a get by id right after a bulk insert slows down with the number of rows inserted.
--    Partial: only documents that have the field are in it (`WHERE (_jsonb -> 'f') IS NOT NULL`,
--    which every `@>` on the field implies, so the planner still uses it). Marker fields that
--    most documents lack (outboxPending, releasePending) then cost a write nothing: every UPDATE
--    of a FerretDB row is a new row version with entries in every index, and a full GIN index
--    took an entry, in one shared posting tree, for each document without the field.
--
-- Everything lives in the schema `oms_stack`; FerretDB ignores schemas without its metadata table.

SET client_min_messages = warning;

CREATE SCHEMA IF NOT EXISTS oms_stack;

-- True for a table FerretDB keeps a collection in.
CREATE OR REPLACE FUNCTION oms_stack.is_collection_table(tbl regclass) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT c.relkind = 'r'
     AND c.relname <> '_ferretdb_database_metadata'
     AND EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND NOT a.attisdropped)
     AND EXISTS (SELECT 1 FROM pg_class m
                  WHERE m.relnamespace = c.relnamespace AND m.relname = '_ferretdb_database_metadata'
                    AND m.relkind = 'r')
    FROM pg_class c
   WHERE c.oid = tbl
$$;

-- The row trigger: a versioned document moves one version at a time.
CREATE OR REPLACE FUNCTION oms_stack.version_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_v jsonb := OLD._jsonb -> 'v';
  new_v jsonb := NEW._jsonb -> 'v';
BEGIN
  IF old_v IS NULL OR jsonb_typeof(old_v) <> 'number' THEN
    RETURN NEW; -- not a versioned document
  END IF;
  IF new_v IS NULL OR jsonb_typeof(new_v) <> 'number'
     OR (new_v #>> '{}')::numeric <> (old_v #>> '{}')::numeric + 1 THEN
    RAISE EXCEPTION 'write conflict: document version moved (stored v %, this write sets v %, expected %) in %.%',
        old_v #>> '{}', coalesce(new_v #>> '{}', 'none'), (old_v #>> '{}')::numeric + 1,
        TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'serialization_failure',
            HINT = 'another write changed the document since this one read it (run it again), '
                   'or this write does not $inc v by 1';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION oms_stack.attach_version_check(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF oms_stack.is_collection_table(tbl)
     AND NOT EXISTS (SELECT 1 FROM pg_trigger
                      WHERE tgrelid = tbl AND tgname = 'oms_version_check' AND NOT tgisinternal) THEN
    EXECUTE format(
      'CREATE TRIGGER oms_version_check BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION oms_stack.version_check()',
      tbl);
  END IF;
END
$$;

-- The `_jsonb` path of an index's first key: {a} for `(_jsonb -> 'a'::text)`, {a,b} for
-- `((_jsonb -> 'a'::text) -> 'b'::text)` (how FerretDB indexes a.b) or for
-- `(_jsonb #> '{a,b}'::text[])` (how it queries a.b, and how the GIN index below keys it);
-- NULL for any other key.
CREATE OR REPLACE FUNCTION oms_stack.key_path(idx regclass) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
  expr text := pg_get_indexdef(idx, 1, false);
  quoted constant text := $re$'((?:[^']|'')*)'$re$;
  parts text[] := ARRAY[]::text[];
  m text[];
BEGIN
  IF expr IS NULL THEN
    RETURN NULL;
  END IF;
  -- an index key that is an expression comes in a pair of parentheses of its own
  expr := coalesce((regexp_match(expr, '^\((.*)\)$'))[1], expr);
  m := regexp_match(expr, '^\(_jsonb #> ' || quoted || '::text\[\]\)$');
  IF m IS NOT NULL THEN
    RETURN replace(m[1], '''''', '''')::text[];
  END IF;
  -- peel `(X -> 'f'::text)` from the outside in
  LOOP
    m := regexp_match(expr, '^\((.*) -> ' || quoted || '::text\)$');
    EXIT WHEN m IS NULL;
    parts := replace(m[2], '''''', '''') || parts;
    expr := m[1];
  END LOOP;
  IF expr <> '_jsonb' OR cardinality(parts) = 0 THEN
    RETURN NULL;
  END IF;
  RETURN parts;
END
$$;

CREATE OR REPLACE FUNCTION oms_stack.add_pushdown_index(idx regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  ix record;
  path text[];
  gin_name text;
  key text;
BEGIN
  SELECT i.indrelid AS tbl, c.relname AS name, am.amname AS method
    INTO ix
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
   WHERE i.indexrelid = idx;
  -- Only FerretDB's btree indexes. The GIN index created below fires the event trigger again,
  -- and stops here.
  IF NOT FOUND OR ix.method <> 'btree' OR NOT oms_stack.is_collection_table(ix.tbl::regclass) THEN
    RETURN;
  END IF;
  path := oms_stack.key_path(idx);
  -- _id needs none: the stack's FerretDB sends `_jsonb->'_id' = …`, which its btree index serves
  IF path IS NULL OR path = ARRAY['_id'] THEN
    RETURN;
  END IF;
  -- one GIN index per table and path, however many btree indexes start with that field
  IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_am am ON am.oid = c.relam
              WHERE i.indrelid = ix.tbl AND am.amname = 'gin'
                AND oms_stack.key_path(i.indexrelid::regclass) = path) THEN
    RETURN;
  END IF;
  -- FerretDB's names end in `_<hash>_idx` and are unique in the schema; ours end in `_gin`
  gin_name := CASE WHEN ix.name LIKE '%\_idx' THEN left(ix.name, length(ix.name) - 4) || '_gin'
                   ELSE left(ix.name, 59) || '_gin' END;
  key := CASE WHEN cardinality(path) = 1 THEN format('_jsonb -> %L', path[1])
              ELSE format('_jsonb #> %L::text[]', path) END;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((%s) jsonb_path_ops) WITH (fastupdate = off) WHERE (%s) IS NOT NULL',
                 gin_name, ix.tbl::regclass, key, key);
END
$$;

-- The event trigger: every table and index FerretDB creates gets the above.
CREATE OR REPLACE FUNCTION oms_stack.on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    IF cmd.command_tag = 'CREATE TABLE' AND cmd.object_type = 'table' THEN
      PERFORM oms_stack.attach_version_check(cmd.objid::regclass);
    ELSIF cmd.command_tag = 'CREATE INDEX' AND cmd.object_type = 'index' THEN
      PERFORM oms_stack.add_pushdown_index(cmd.objid::regclass);
    END IF;
  END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS oms_stack_on_ddl;
CREATE EVENT TRIGGER oms_stack_on_ddl ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE INDEX')
  EXECUTE FUNCTION oms_stack.on_ddl();

-- Tables and indexes that exist already (a data folder from before): the same, once.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'oms_stack')
  LOOP
    PERFORM oms_stack.attach_version_check(r.oid::regclass);
  END LOOP;
  -- GIN indexes of an earlier install (whole-table, or with a pending list) are made again below
  FOR r IN SELECT c.oid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
             JOIN pg_am am ON am.oid = c.relam
            WHERE am.amname = 'gin' AND c.relname LIKE '%\_gin'
              AND oms_stack.is_collection_table(i.indrelid::regclass)
              AND (i.indpred IS NULL OR NOT coalesce(c.reloptions @> ARRAY['fastupdate=off'], false)
                   OR oms_stack.key_path(c.oid::regclass) = ARRAY['_id'])
  LOOP
    EXECUTE format('DROP INDEX %s', r.oid::regclass);
  END LOOP;
  FOR r IN SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'oms_stack', 'pg_toast')
            ORDER BY i.indexrelid
  LOOP
    PERFORM oms_stack.add_pushdown_index(r.indexrelid::regclass);
  END LOOP;
END
$$;
