// Each Azure DevOps pipeline given must be YAML (no duplicate key, no warning) using only the
// keys Azure Pipelines accepts where it uses them (the pipeline, its stages, jobs, deployment
// strategies and steps, after the YAML schema of Azure Pipelines), and each step that runs
// authgate must sign in with workload identity (SYSTEM_ACCESSTOKEN mapped) and keep the journal
// in the secret authgateState; the pipeline's runs are serialised (lockBehavior: sequential).
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

const stepCommon = ['condition', 'continueOnError', 'displayName', 'target', 'enabled', 'env', 'name',
                    'timeoutInMinutes', 'retryCountOnTaskFailure'];
const keys = {
    pipeline: ['stages', 'jobs', 'steps', 'extends', 'pool', 'name', 'appendCommitMessageToRunName', 'trigger',
               'parameters', 'pr', 'schedules', 'resources', 'variables', 'lockBehavior'],
    // A pipeline of steps alone is one implicit job, and takes a job's keys.
    pipelineOfSteps: ['strategy', 'continueOnError', 'container', 'services', 'workspace'],
    stage: ['stage', 'displayName', 'pool', 'dependsOn', 'condition', 'variables', 'jobs', 'lockBehavior',
            'trigger', 'isSkippable', 'templateContext', 'group'],
    job: ['job', 'displayName', 'dependsOn', 'condition', 'continueOnError', 'timeoutInMinutes',
          'cancelTimeoutInMinutes', 'variables', 'strategy', 'pool', 'container', 'services', 'workspace', 'uses',
          'steps', 'templateContext'],
    deployment: ['deployment', 'displayName', 'dependsOn', 'condition', 'continueOnError', 'container', 'services',
                 'timeoutInMinutes', 'cancelTimeoutInMinutes', 'variables', 'pool', 'environment', 'strategy',
                 'workspace', 'uses', 'templateContext'],
    deploymentStrategy: ['runOnce', 'rolling', 'canary'],
    lifecycle: ['preDeploy', 'deploy', 'routeTraffic', 'postRouteTraffic', 'on'],
    hook: ['steps', 'pool'],
    script: ['script', 'failOnStderr', 'workingDirectory', ...stepCommon],
    bash: ['bash', 'failOnStderr', 'workingDirectory', ...stepCommon],
    checkout: ['checkout', 'clean', 'fetchDepth', 'fetchFilter', 'fetchTags', 'lfs', 'persistCredentials',
               'submodules', 'path', 'sparseCheckoutDirectories', 'sparseCheckoutPatterns', 'workspaceRepo',
               ...stepCommon],
    publish: ['publish', 'artifact', ...stepCommon],
    download: ['download', 'artifact', 'patterns', ...stepCommon],
    task: ['task', 'inputs', ...stepCommon],
    container: ['container', 'image', 'options', 'endpoint', 'env', 'ports', 'volumes', 'mapDockerSocket',
                'mountReadOnly'],
};

let failures = 0;
const fail = (file, message) => {
    console.log(`${file}: ${message}`);
    failures++;
};

function check(file, where, object, allowed) {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
        fail(file, `${where}: not a mapping`);
        return;
    }
    for (const key of Object.keys(object))
        if (!allowed.includes(key)) fail(file, `${where}: '${key}' is not a key Azure Pipelines accepts here`);
}

function checkSteps(file, where, steps, authgate) {
    if (!Array.isArray(steps)) return fail(file, `${where}: steps is not a list`);
    steps.forEach((step, index) => {
        const kind = Object.keys(keys).find((name) => ['script', 'bash', 'checkout', 'publish', 'download', 'task']
                                                         .includes(name) && step && name in step);
        if (!kind) return fail(file, `${where} step ${index + 1}: not a step Azure Pipelines knows`);
        check(file, `${where} step ${index + 1}`, step, keys[kind]);
        if (/(^|[\s;&|(])authgate [a-z]/m.test(step.script ?? step.bash ?? '')) authgate.push([where, step]);
    });
}

function checkJobs(file, where, jobs, authgate) {
    if (!Array.isArray(jobs)) return fail(file, `${where}: jobs is not a list`);
    for (const job of jobs) {
        if (job?.deployment !== undefined) {
            const at = `${where} deployment ${job.deployment}`;
            check(file, at, job, keys.deployment);
            check(file, `${at} strategy`, job.strategy ?? {}, keys.deploymentStrategy);
            for (const [name, lifecycle] of Object.entries(job.strategy ?? {})) {
                check(file, `${at} ${name}`, lifecycle, [...keys.lifecycle, ...(name === 'runOnce' ? [] : ['maxParallel', 'increments'])]);
                for (const hook of keys.lifecycle.filter((hook) => hook !== 'on' && lifecycle?.[hook])) {
                    check(file, `${at} ${hook}`, lifecycle[hook], keys.hook);
                    checkSteps(file, `${at} ${hook}`, lifecycle[hook].steps ?? [], authgate);
                }
            }
        } else {
            const at = `${where} job ${job?.job}`;
            check(file, at, job, keys.job);
            checkSteps(file, at, job?.steps ?? [], authgate);
        }
    }
}

for (const file of process.argv.slice(2)) {
    const document = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true, prettyErrors: true });
    for (const problem of [...document.errors, ...document.warnings]) fail(file, `YAML: ${problem.message}`);
    if (document.errors.length) continue;
    const pipeline = document.toJS();
    const authgate = [];
    check(file, 'pipeline', pipeline, pipeline?.steps ? [...keys.pipeline, ...keys.pipelineOfSteps] : keys.pipeline);
    for (const container of pipeline?.resources?.containers ?? []) check(file, 'resources container', container, keys.container);
    if (pipeline?.stages)
        for (const stage of pipeline.stages) {
            check(file, `stage ${stage?.stage}`, stage, keys.stage);
            checkJobs(file, `stage ${stage?.stage}`, stage?.jobs ?? [], authgate);
        }
    if (pipeline?.jobs) checkJobs(file, 'pipeline', pipeline.jobs, authgate);
    if (pipeline?.steps) checkSteps(file, 'pipeline', pipeline.steps, authgate);

    const variables = pipeline?.variables ?? {};
    if (authgate.length && variables.AUTHGATE_CREDENTIAL !== 'workload-identity')
        fail(file, 'AUTHGATE_CREDENTIAL is not workload-identity');
    if (authgate.length && pipeline?.lockBehavior !== 'sequential')
        fail(file, 'runs that write to the tenant are not serialised (lockBehavior: sequential)');
    for (const [where, step] of authgate) {
        if (step.env?.SYSTEM_ACCESSTOKEN !== '$(System.AccessToken)')
            fail(file, `${where}: authgate runs without SYSTEM_ACCESSTOKEN mapped (the OIDC token's request)`);
        if (step.env?.AUTHGATE_STATE !== '$(authgateState)')
            fail(file, `${where}: authgate runs without the journal of the secret authgateState`);
    }
}
const count = process.argv.length - 2;
console.log(`${count} pipelines checked, ${failures} problems`);
process.exit(failures || count === 0 ? 1 : 0);
