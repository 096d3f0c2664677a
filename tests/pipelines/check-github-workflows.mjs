// Each GitHub Actions workflow given is parsed and converted by GitHub's own workflow parser
// (@actions/workflow-parser): any error it reports fails. Then what each job that runs authgate
// needs of this repository's authgate: workload identity (id-token: write, no stored key), the
// shared journal from the AUTHGATE_STATE secret, one concurrency group per tenant, and an
// artifact downloaded only from a run it names.
import { readFileSync } from 'node:fs';
import { parseWorkflow, convertWorkflowTemplate } from '@actions/workflow-parser';
import { ErrorPolicy } from '@actions/workflow-parser/model/convert';
import { parseDocument } from 'yaml';

let failures = 0;
const fail = (file, message) => {
    console.log(`${file}: ${message}`);
    failures++;
};

for (const file of process.argv.slice(2)) {
    const content = readFileSync(file, 'utf8');
    const problems = [];
    const trace = { error: (message) => problems.push(message), info() {}, verbose() {} };
    const parsed = parseWorkflow({ name: file, content }, trace);
    const template = await convertWorkflowTemplate(parsed.context, parsed.value, undefined,
                                                   { errorPolicy: ErrorPolicy.TryConversion });
    for (const error of parsed.context.errors.getErrors()) problems.push(error.message);
    for (const error of template.errors ?? []) problems.push(error.Message);
    // The parser reads YAML leniently; a duplicate key or a YAML warning fails too.
    const document = parseDocument(content, { uniqueKeys: true });
    for (const problem of [...document.errors, ...document.warnings]) problems.push(`YAML: ${problem.message}`);
    for (const problem of new Set(problems)) fail(file, `workflow parser: ${problem}`);
    if (problems.length) continue;

    const workflow = document.toJS();
    for (const [id, job] of Object.entries(workflow.jobs)) {
        const steps = job.steps ?? [];
        const runsAuthgate = steps.some((step) => /(^|[\s;&|(])authgate [a-z]/m.test(step.run ?? ''));
        for (const step of steps)
            if (/\/download-artifact@|action-download-artifact/.test(step.uses ?? '') && !step.with?.['run-id'])
                fail(file, `job ${id}: an artifact is downloaded without naming the run it comes from (run-id)`);
        if (!runsAuthgate) continue;
        const env = { ...workflow.env, ...job.env };
        const permissions = job.permissions ?? workflow.permissions ?? {};
        const concurrency = job.concurrency ?? workflow.concurrency;
        if (env.AUTHGATE_CREDENTIAL !== 'workload-identity')
            fail(file, `job ${id}: AUTHGATE_CREDENTIAL is not workload-identity`);
        if (env.AUTHGATE_CERTIFICATE !== undefined) fail(file, `job ${id}: a certificate where workload identity signs in`);
        if (permissions['id-token'] !== 'write') fail(file, `job ${id}: no permissions: id-token: write`);
        if (!/^\$\{\{\s*secrets\.AUTHGATE_STATE\s*\}\}$/.test(env.AUTHGATE_STATE ?? ''))
            fail(file, `job ${id}: AUTHGATE_STATE is not the secret AUTHGATE_STATE (the shared journal)`);
        const group = typeof concurrency === 'string' ? concurrency : concurrency?.group;
        if (!/vars\.AUTHGATE_TENANT/.test(group ?? '')) fail(file, `job ${id}: no concurrency group per tenant`);
        if (steps.some((step) => /^azure\/login@/.test(step.uses ?? '')))
            fail(file, `job ${id}: azure/login, which authgate does not use`);
    }
}
const count = process.argv.length - 2;
console.log(`${count} workflows checked, ${failures} problems`);
process.exit(failures || count === 0 ? 1 : 0);
