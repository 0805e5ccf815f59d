import type { Command } from 'commander';
import { register as audit } from './audit.js';
import { register as bundle } from './bundle.js';
import { register as clientConfig } from './client-config.js';
import { register as demo } from './demo.js';
import { register as image } from './image.js';
import { register as key } from './key.js';
import { register as lock } from './lock.js';
import { register as serve } from './serve.js';
import { register as store } from './store.js';
import { register as token } from './token.js';
import { register as trust } from './trust.js';

/** Every command group registers itself here; main.ts knows nothing else about them. */
export const COMMANDS: ((program: Command) => void)[] = [store, lock, bundle, image, serve, token, key, trust, audit, clientConfig, demo];
