import { join } from 'node:path';
import { SqliteMetadataStore } from '../../src/core/sqlite-metadata.js';
import { tempDir } from '../helpers/tmp.js';
import { metadataConformance } from './metadata-conformance.js';

metadataConformance('node:sqlite', async (t) => {
  const meta = new SqliteMetadataStore(join(await tempDir(t), 'airlock.db'));
  t.after(() => meta.close());
  return meta;
});
