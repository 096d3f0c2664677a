// node extract-step.mjs WORKFLOW JOB STEP_ID: prints the `run` script of that step.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const [file, job, id] = process.argv.slice(2);
const step = parse(readFileSync(file, 'utf8')).jobs?.[job]?.steps?.find((step) => step.id === id);
if (!step?.run) {
    console.error(`${file}: job ${job} has no step ${id} with a run script`);
    process.exit(1);
}
process.stdout.write(step.run);
