// Times one rattler solve (the conda org's solver, as pixi uses it) against a channel URL and
// prints the seconds and the number of packages chosen, as JSON.
import { simpleSolve } from '@conda-org/rattler';

const [channel, subdir, ...specs] = process.argv.slice(2);
const start = process.hrtime.bigint();
const solved = await simpleSolve(specs, [channel], [subdir, 'noarch'], []);
process.stdout.write(JSON.stringify({ seconds: Number(process.hrtime.bigint() - start) / 1e9, packages: solved.length }));
