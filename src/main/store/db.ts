import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { MigLabError } from '../../shared/errors'
import { migrations } from './migrations'

export type Db = Database.Database

/** Opens (creating if needed) the history database, in WAL mode, migrated to the latest schema. */
export function openDb(path: string): Db {
  mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
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
