// node --import this file: lets @actions/workflow-parser load its JSON schema on Node 20+, which
// requires `with { type: 'json' }` on a JSON import that the package's own import lacks.
import { register } from 'node:module';

register('./json-imports-hook.mjs', import.meta.url);
