import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ArtifactRecord } from '../core/artifact.js';
import type { HttpClient } from '../core/http.js';
import type { AuditEvent, TokenRole } from '../core/metadata.js';
import type { Reporter } from '../core/report.js';
import type { Store } from '../core/store.js';
import type { ExcludedArtifact, LockedArtifact } from '../manifest/lockfile.js';
import type { Target } from '../manifest/target.js';

export interface ResolveContext {
  store: Store;
  http: HttpClient;
  target: Target;
  reporter: Reporter;
  /** Directory of the airlock.yaml being locked; relative paths in it resolve against this. */
  manifestDir: string;
  /** Records what the inputs named but the lock leaves out, for `lock --explain`. */
  exclude?(entry: ExcludedArtifact): void;
}

export interface ServeContext {
  store: Store;
  /**
   * Where this request's client reaches the server, without a trailing slash: `serve
   * --base-url` (or the listen address), else the request's own scheme and Host.
   */
  origin(req: FastifyRequest): string;
  /** The live token an Authorization header carries, if any (for an ecosystem's own login endpoints). */
  token(header: string | undefined): Promise<{ name: string; role: TokenRole } | undefined>;
  /** Who a request acts as, for the audit log: `token:<name>`, or `anonymous`. */
  actor(header: string | undefined): Promise<string>;
  /**
   * Appends an event that changes nothing else (a refused login) to the store's audit log. A
   * write records its entry in its own transaction instead (`store.meta.transaction`, `tx.audit`).
   */
  audit(event: AuditEvent): Promise<void>;
  /**
   * A publisher token minted for the holder of the active token `parent`, named
   * `<base>-<random>` and revoked with it (an ecosystem's login; the server mints it with services/tokens).
   */
  mintToken(parent: string, base: string): Promise<{ name: string; token: string }>;
}

export interface ManifestSection<Section, Settings = unknown> {
  /** Its key in airlock.yaml and the schema of that section. */
  readonly key: string;
  readonly schema: z.ZodType<Section>;
  /** An optional second top-level key the ecosystem reads beside its section (`registries:` for images). */
  readonly settings?: { readonly key: string; readonly schema: z.ZodType<Settings> };
  /** Manifest section + targets → pinned artifacts (blobs with digest, size and source URL). */
  resolve(section: Section, ctx: ResolveContext, settings?: Settings): Promise<LockedArtifact[]>;
}

/**
 * The seam every ecosystem implements. Adding one (Maven, Go modules, apt, Helm) is a new
 * folder with this interface plus one line in registry.ts; core, bundle and governance code
 * never import an ecosystem.
 */
export interface Ecosystem<Section = unknown, Settings = unknown> {
  /** Stored in every artifact row; also the URL prefix it serves under. */
  readonly id: string;
  /** How airlock.yaml asks for this ecosystem's artifacts; absent for an ecosystem that only hosts uploads. */
  readonly manifest?: ManifestSection<Section, Settings>;
  /** Where its routes live when not under `/<id>/` (`/v2/` for images, as clients expect). */
  readonly prefix?: string;
  /**
   * What a request needs, where the method alone misleads: `read` for a POST that only asks
   * (npm audit), `open` for a login that checks its own credentials. Default: GET/HEAD read,
   * everything else writes.
   */
  access?(method: string, path: string): 'read' | 'write' | 'open' | undefined;
  /** A refusal the server makes for the ecosystem (401, 403, 503), in its own error format, for clients that parse error bodies. */
  errorBody?(reply: FastifyReply, status: 401 | 403 | 503, message: string): FastifyReply;
  /** The `WWW-Authenticate` challenge its clients follow on a 401 (default: Basic); `origin` as ServeContext.origin gives it. */
  challenge?(origin: string): string;
  /**
   * What is wrong with an artifact record a bundle carries, by the rules the ecosystem's own
   * lock and serve apply (a files key is a served path), or undefined. A bundle is checked
   * with it before anything is staged; an artifact from a forged manifest never reached resolve.
   */
  checkArtifact?(a: ArtifactRecord): string | undefined;
  /** Routes under `/<id>/`, reading the store (and writing it only for authorised uploads). */
  serve(app: FastifyInstance, ctx: ServeContext): void | Promise<void>;
  /** The client names `airlock client-config` accepts for this ecosystem (pip, uv, ...). */
  readonly clients: readonly string[];
  /** The lines a user pastes into a client's configuration to use this server. */
  clientConfig(baseUrl: string, client: string): string;
  /**
   * Headers a blob download from this ecosystem's upstream needs (a registry's token); called
   * by `airlock fetch` per blob URL. Absent when plain GETs suffice.
   */
  fetchHeaders?(url: string, http: HttpClient): Promise<Record<string, string>>;
}
