import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

async function walk(root: string, dir: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(root, p, out);
    else out.push(`${relative(root, p)} ${(await stat(p)).size}`);
  }
}

/**
 * Everything a refused import must leave as it was: blob and staging files, and every table
 * but `imports` (where the refusal itself is recorded).
 */
export async function storeSnapshot(home: string): Promise<string> {
  const files: string[] = [];
  await walk(home, join(home, 'blobs'), files);
  await walk(home, join(home, 'staging'), files);
  const db = new DatabaseSync(join(home, 'airlock.db'), { readOnly: true });
  try {
    const tables = ['artifacts', 'artifact_blobs', 'bundles', 'bundle_volumes', 'tokens'];
    const rows = tables.map((t) => `${t}: ${JSON.stringify(db.prepare(`SELECT * FROM ${t}`).all())}`);
    return [...files.sort(), ...rows].join('\n');
  } finally {
    db.close();
  }
}

export function importOutcomes(home: string): string[] {
  const db = new DatabaseSync(join(home, 'airlock.db'), { readOnly: true });
  try {
    return db
      .prepare('SELECT outcome FROM imports ORDER BY id')
      .all()
      .map((r) => String(r.outcome));
  } finally {
    db.close();
  }
}
