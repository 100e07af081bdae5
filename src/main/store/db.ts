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
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v])
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
}

export const now = (): string => new Date().toISOString()
