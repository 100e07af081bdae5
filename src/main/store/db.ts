import Database from 'better-sqlite3'
import { dirname } from 'node:path'
import { MigLabError } from '../../shared/errors'
import { ensurePrivateDir, ensurePrivateFile } from '../paths'
import { migrations } from './migrations'

export type Db = Database.Database

/**
 * Opens (creating if needed) the history database, in WAL mode, migrated to the latest schema. Its
 * folder is 0700 and the database with its -wal and -shm files 0600 (SQLite gives the side files
 * the database's mode; existing looser ones are tightened).
 */
export function openDb(path: string): Db {
  // An in-memory database (tests) has no file and no folder to protect.
  const onDisk = path !== ':memory:' && path !== '' && !path.startsWith('file:')
  if (onDisk) {
    ensurePrivateDir(dirname(path))
    ensurePrivateFile(path)
  }
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  if (onDisk) for (const side of ['-wal', '-shm']) ensurePrivateFile(path + side, false)
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  migrate(db)
  return db
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > migrations.length) {
    throw new MigLabError(
      'db_too_new',
      `The history database was written by a newer MigLab (schema ${current}, this one knows ${migrations.length}).`,
      { hint: 'Update MigLab, or point MIGLAB_DATA_DIR at another folder.' },
    )
  }
  if (current === migrations.length) return
  // Table rebuilds drop and recreate tables other tables point at: with foreign keys on, the drop
  // would cascade. They are off while migrating (the pragma is a no-op inside a transaction), and
  // each step must leave every reference valid before it commits.
  db.pragma('foreign_keys = OFF')
  try {
    for (let v = current; v < migrations.length; v++) {
      db.transaction(() => {
        const step = migrations[v]
        if (typeof step === 'string') db.exec(step)
        else step(db)
        const broken = db.pragma('foreign_key_check') as unknown[]
        if (broken.length) {
          throw new MigLabError('db_migration_failed', `Upgrading the history database to schema ${v + 1} would break ${broken.length} references; nothing was changed.`, {
            hint: 'Keep a copy of the database file and report this; the previous MigLab version still opens it.',
          })
        }
        db.pragma(`user_version = ${v + 1}`)
      })()
    }
  } finally {
    db.pragma('foreign_keys = ON')
  }
}

export const now = (): string => new Date().toISOString()

/**
 * A failed write to the history as a MigLab error: a full disk (or quota) says where and what to do;
 * anything else keeps SQLite's own words. What was written before stays: every write is a transaction.
 */
export function storeError(db: Db, err: unknown): MigLabError {
  const code = (err as { code?: string }).code ?? ''
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) {
    return new MigLabError('disk_full', `The disk holding MigLab's history (${dirname(db.name)}) is full or failing: ${(err as Error).message}.`, {
      hint: 'Free space there (or point MIGLAB_DATA_DIR elsewhere); everything stored so far is kept.',
      sqliteCode: code,
    })
  }
  return new MigLabError('store_failed', `Writing to MigLab's history failed: ${(err as Error).message}.`, { sqliteCode: code })
}
