import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeWheel } from './wheels.js';

/** A small world of wheels whose right answer differs by platform, Python and markers. */
export async function buildWheels(dir: string): Promise<string> {
  const w = join(dir, 'wheels');
  await mkdir(w, { recursive: true });
  makeWheel(
    w,
    'app',
    '1.0',
    '>=3.8',
    'lib>=1.0',
    'winonly; sys_platform == "win32"',
    'armhelper; platform_machine == "aarch64"',
    'extra-dep; extra == "fast"',
    'py311only; python_version < "3.12"',
  );
  makeWheel(w, 'app', '2.0', '>=3.8', 'lib>=3.0');
  makeWheel(w, 'lib', '1.0');
  makeWheel(w, 'lib', '2.0', '', '--tag=cp311-cp311-manylinux_2_17_x86_64');
  makeWheel(w, 'lib', '2.0', '', '--tag=cp312-cp312-manylinux_2_17_aarch64');
  makeWheel(w, 'lib', '2.1', '', '--tag=cp312-cp312-manylinux_2_34_aarch64');
  makeWheel(w, 'armhelper', '1.0');
  makeWheel(w, 'py311only', '1.0');
  makeWheel(w, 'extra-dep', '1.0');
  makeWheel(w, 'winonly', '1.0');
  makeWheel(w, 'future', '1.0', '>=3.13');
  return w;
}

export const EXPECTED = [
  'app-1.0-py3-none-any.whl',
  'armhelper-1.0-py3-none-any.whl',
  'lib-1.0-py3-none-any.whl',
  'lib-2.0-cp311-cp311-manylinux_2_17_x86_64.whl',
  'lib-2.0-cp312-cp312-manylinux_2_17_aarch64.whl',
  'py311only-1.0-py3-none-any.whl',
];
