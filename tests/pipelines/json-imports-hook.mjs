// The loader hook json-imports.mjs registers: every .json module is loaded as JSON.
export async function load(url, context, nextLoad) {
    if (new URL(url).pathname.endsWith('.json'))
        return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
    return nextLoad(url, context);
}
