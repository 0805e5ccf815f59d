import type { StoredArtifact } from '../../core/artifact.js';
import type { Digest } from '../../core/digest.js';
import { hexOf } from '../../core/digest.js';
import { readCondaMetadata } from './record.js';
import { type CondaRecord, checkRecord } from './repodata.js';

/** One package file as a served channel holds it. */
export interface ChannelEntry {
  filename: string;
  /** The record's JSON text, spliced into repodata as stored. */
  json: string;
  name: string;
  version: string;
  subdir: string;
  digest: Digest;
  size: number;
}

/** channel name → subdir → file name → entry. */
export type ChannelsView = Map<string, Map<string, Map<string, ChannelEntry>>>;

/**
 * Every conda package in the store, by channel and subdir. A record lock would not have
 * taken (checkRecord), or one that contradicts its stored blob (another sha256 or size), is
 * left out: clients would refuse the download anyway, and a crafted bundle must not make the
 * index lie.
 */
export function channelsView(artifacts: readonly StoredArtifact[]): ChannelsView {
  const view: ChannelsView = new Map();
  for (const a of artifacts) {
    const m = readCondaMetadata(a.metadata);
    if (!m) continue;
    let rec: CondaRecord;
    try {
      rec = checkRecord(m.filename, JSON.parse(m.record), m.channel);
    } catch {
      continue;
    }
    if (rec.sha256 !== undefined && rec.sha256 !== hexOf(a.digest)) continue;
    if (rec.size !== undefined && rec.size !== a.size) continue;
    let subdirs = view.get(m.channel);
    if (!subdirs) view.set(m.channel, (subdirs = new Map()));
    let files = subdirs.get(m.subdir);
    if (!files) subdirs.set(m.subdir, (files = new Map()));
    files.set(m.filename, {
      filename: m.filename,
      json: m.record,
      name: rec.name,
      version: rec.version,
      subdir: m.subdir,
      digest: a.digest,
      size: a.size,
    });
  }
  return view;
}
