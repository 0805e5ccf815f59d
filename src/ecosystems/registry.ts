import type { Ecosystem } from './ecosystem.js';
import { condaEcosystem } from './conda/index.js';
import { filesEcosystem } from './files/index.js';
import { hfEcosystem } from './hf/index.js';
import { npmEcosystem } from './npm/index.js';
import { ociEcosystem } from './oci/index.js';
import { pypiEcosystem } from './pypi/index.js';

/** The one list through which the CLI and the server find ecosystems. */
export const ECOSYSTEMS: readonly Ecosystem[] = [filesEcosystem, pypiEcosystem, npmEcosystem, ociEcosystem, hfEcosystem, condaEcosystem];
