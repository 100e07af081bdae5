import type Database from 'better-sqlite3'

/**
 * One schema step: SQL, or code for steps SQL alone cannot express (a table rebuild that must
 * keep whatever columns earlier steps added). Each runs in its own transaction with foreign keys
 * off, and the whole database must pass `foreign_key_check` before it commits (see db.ts).
 */
export type Migration = string | ((db: Database.Database) => void)

/**
 * Ordered schema migrations. Append only: a shipped migration is never edited, because users'
 * databases already ran it. `user_version` records how many have been applied.
 */
/**
 * Ids are never reused: a removed node's id must not name a new node (its pooled connection,
 * secrets, caches and transcripts were keyed by it). SQLite adds AUTOINCREMENT only by rebuilding
 * the table; the rebuild copies the table's current definition, so columns other steps added stay.
 */
function autoincrementIds(db: Database.Database): void {
  for (const table of ['labs', 'nodes', 'runs']) addAutoincrement(db, table)
}
export { autoincrementIds }

export const migrations: Migration[] = [
  `
  CREATE TABLE labs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('demo', 'real')),
    description TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
  );
  CREATE TABLE nodes (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL DEFAULT 22,
    user TEXT NOT NULL,
    auth TEXT NOT NULL,              -- JSON {kind, keyPath}; never a password or passphrase
    jump_host TEXT,
    facts TEXT,                      -- JSON, from preflight
    preflight TEXT,                  -- JSON checklist, from preflight
    created_at TEXT NOT NULL,
    UNIQUE (lab_id, name)
  );
  CREATE TABLE host_keys (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    algorithm TEXT NOT NULL,
    fingerprint TEXT NOT NULL,       -- SHA256:… as ssh-keygen -lf prints it
    key TEXT NOT NULL,               -- base64 public key blob
    trusted_at TEXT NOT NULL,
    UNIQUE (host, port)
  );
  CREATE TABLE setup_steps (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    wizard TEXT NOT NULL,
    step TEXT NOT NULL,
    node_id INTEGER REFERENCES nodes(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    detail TEXT,
    at TEXT NOT NULL
  );
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    progress REAL,
    step TEXT NOT NULL DEFAULT '',
    result TEXT,
    error TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER REFERENCES labs(id) ON DELETE SET NULL,
    job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
    vm TEXT NOT NULL,
    strategy TEXT NOT NULL,
    workload TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    environment TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT
  );
  CREATE TABLE samples (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    t_ms REAL NOT NULL,              -- milliseconds since the run started
    series TEXT NOT NULL,
    value REAL NOT NULL
  );
  CREATE INDEX samples_run ON samples (run_id, series, t_ms);
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    t_ms REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX events_run ON events (run_id, t_ms);
  CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    job_id TEXT,
    run_id INTEGER
  );
  CREATE INDEX logs_job ON logs (job_id);
  CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
  );
  CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    at TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE transcripts (
    id INTEGER PRIMARY KEY,
    node_id INTEGER REFERENCES nodes(id) ON DELETE SET NULL,
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL
  );
  `,
  autoincrementIds,
  // Which process runs a job: a start reconciles only the jobs of processes that are gone.
  `ALTER TABLE jobs ADD COLUMN owner TEXT;`,
  // Run history: a stable identity per run (bundles merge by it, never by row id), stars, and the
  // indexes the filtered, paginated history list needs at 10 000 runs.
  `
  ALTER TABLE runs ADD COLUMN uuid TEXT;
  ALTER TABLE runs ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;
  UPDATE runs SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
    substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) WHERE uuid IS NULL;
  CREATE UNIQUE INDEX runs_uuid ON runs (uuid);
  CREATE TRIGGER runs_uuid_fill AFTER INSERT ON runs WHEN NEW.uuid IS NULL BEGIN
    UPDATE runs SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
      substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) WHERE id = NEW.id;
  END;
  CREATE INDEX runs_started ON runs (started_at, id);
  CREATE INDEX tags_tag ON tags (tag, run_id);
  CREATE INDEX notes_run ON notes (run_id);
  CREATE INDEX logs_run ON logs (run_id);
  `,
  // Setup wizards: one row per (lab, wizard, step, node) holding the latest result; \`done_at\` is when
  // the step was last found done, so a later check that finds it undone shows as drift.
  `
  ALTER TABLE setup_steps ADD COLUMN done_at TEXT;
  DELETE FROM setup_steps WHERE id NOT IN (SELECT max(id) FROM setup_steps GROUP BY lab_id, wizard, step, coalesce(node_id, 0));
  CREATE UNIQUE INDEX setup_steps_key ON setup_steps (lab_id, wizard, step, coalesce(node_id, 0));
  `,
  // A run's series read from the index alone (value included): opening a 120 000-sample run no longer
  // jumps to the table for every row (170 → 91 ms for that read, measured in memory).
  `
  DROP INDEX IF EXISTS samples_run;
  CREATE INDEX samples_run ON samples (run_id, series, t_ms, value);
  `,
]

/**
 * Rebuilds `table` with `id INTEGER PRIMARY KEY AUTOINCREMENT`, keeping every row, id and column.
 * Needs foreign keys off (db.ts does it): dropping the old table must not cascade to its children.
 */
export function addAutoincrement(db: Database.Database, table: string): void {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string } | undefined
  if (!row) throw new Error(`addAutoincrement: no table ${table}`)
  if (/\bAUTOINCREMENT\b/i.test(row.sql)) return
  const pk = /\bid\s+INTEGER\s+PRIMARY\s+KEY\b/i
  const head = new RegExp(`^CREATE\\s+TABLE\\s+("?)${table}\\1\\s*\\(`, 'i')
  if (!pk.test(row.sql) || !head.test(row.sql)) throw new Error(`addAutoincrement: unexpected definition of ${table}`)
  const temp = `${table}_autoincrement`
  const indexes = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(table) as { sql: string }[]
  db.exec(row.sql.replace(head, `CREATE TABLE "${temp}" (`).replace(pk, 'id INTEGER PRIMARY KEY AUTOINCREMENT'))
  db.exec(`INSERT INTO "${temp}" SELECT * FROM "${table}"`)
  db.exec(`DROP TABLE "${table}"`)
  db.exec(`ALTER TABLE "${temp}" RENAME TO "${table}"`)
  for (const i of indexes) db.exec(i.sql)
}
