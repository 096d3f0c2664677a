// Opens one report page in headless Chromium through the DevTools protocol on a pipe (no npm
// package, no port), and checks what a reader would get: the page's DOM, that it made no request
// but its own (the browser's network log), that nothing was logged (a blocked script or fetch
// would be), and keeps a screenshot and a PDF print of it.
//   node check-page.js CHROMIUM PAGE.html EXPECTED.json OUT-PREFIX
// EXPECTED.json: {"exceptions": [mailbox...], "counts": {"#id": "text"...}, "rows": {"selector": n},
//                 "texts": [text the page must show as text]}
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [chromium, page, expectedFile, prefix] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8'));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'authgate-chromium-'));
const args = ['--headless', '--disable-gpu', '--remote-debugging-pipe', '--user-data-dir=' + profile,
              '--no-first-run', '--no-default-browser-check', '--disable-extensions',
              '--disable-background-networking', '--disable-component-update', '--disable-sync',
              '--hide-scrollbars', '--mute-audio', 'about:blank'];
if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox');  // Chromium refuses root otherwise
const browser = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let stderr = '';
browser.stderr.on('data', (chunk) => { stderr += chunk; });

const failures = [];
const fail = (message) => failures.push(message);
const timer = setTimeout(() => finish('timed out after 90 s'), 90000);
let finished = false;
function finish(error) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  if (error) fail(error);
  try { browser.kill('SIGKILL'); } catch (e) { /* gone already */ }
  fs.rmSync(profile, { recursive: true, force: true });
  for (const failure of failures) console.log('FAIL ' + path.basename(page) + ': ' + failure);
  if (failures.length && error) console.log(stderr.split('\n').slice(-20).join('\n'));
  process.exit(failures.length ? 1 : 0);
}
browser.on('error', (error) => finish('cannot start ' + chromium + ': ' + error.message));
browser.on('exit', (code) => { if (!finished) finish('chromium exited early (' + code + ')'); });

// The protocol: JSON messages ended by a NUL byte, commands on fd 3, answers and events on fd 4.
let nextId = 1;
const pending = new Map();
const listeners = [];
let buffer = Buffer.alloc(0);
browser.stdio[4].on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (let end = buffer.indexOf(0); end >= 0; end = buffer.indexOf(0)) {
    const message = JSON.parse(buffer.subarray(0, end).toString('utf8'));
    buffer = buffer.subarray(end + 1);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    } else if (message.method) {
      for (const listener of listeners) listener(message);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  browser.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function once(method, sessionId) {
  return new Promise((resolve) => listeners.push((m) => { if (m.method === method && m.sessionId === sessionId) resolve(m.params); }));
}

async function main() {
  const url = 'file://' + path.resolve(page);
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const requests = [];
  const logged = [];
  listeners.push((m) => {
    if (m.sessionId !== sessionId) return;
    if (m.method === 'Network.requestWillBeSent') requests.push(m.params.request.url);
    if (m.method === 'Log.entryAdded') logged.push(m.params.entry.level + ': ' + m.params.entry.text);
    if (m.method === 'Runtime.consoleAPICalled') logged.push('console: ' + m.params.type);
    if (m.method === 'Runtime.exceptionThrown') logged.push('exception: ' + m.params.exceptionDetails.text);
  });
  await send('Network.enable', {}, sessionId);
  await send('Log.enable', {}, sessionId);
  await send('Runtime.enable', {}, sessionId);
  await send('Page.enable', {}, sessionId);
  await send('Emulation.setDeviceMetricsOverride', { width: 1100, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
  const loaded = once('Page.loadEventFired', sessionId);
  await send('Page.navigate', { url }, sessionId);
  await loaded;

  // The network log: the page itself, and nothing else.
  const others = requests.filter((request) => request !== url);
  if (!requests.includes(url)) fail('the page itself is not in the network log (is the log recorded?)');
  if (others.length) fail('requests besides the page: ' + others.slice(0, 5).join(', '));

  const { result } = await send('Runtime.evaluate', {
    returnByValue: true,
    expression: `(() => {
      const all = [...document.querySelectorAll('*')];
      const text = (selector) => { const e = document.querySelector(selector); return e ? e.textContent : null; };
      const rows = {};
      for (const selector of ${JSON.stringify(Object.keys(expected.rows || {}))}) rows[selector] = document.querySelectorAll(selector).length;
      const counts = {};
      for (const selector of ${JSON.stringify(Object.keys(expected.counts || {}))}) counts[selector] = text(selector);
      return {
        exceptions: [...document.querySelectorAll('tr.exception td.mailbox')].map((td) => td.firstChild.textContent.trim()),
        bars: document.querySelectorAll('#timeline rect').length,
        rows, counts,
        active: [...document.querySelectorAll('script, iframe, frame, object, embed, img, image, video, audio, a, link, base, form, input, button, meta[http-equiv="refresh"]')].map((e) => e.tagName),
        handlers: all.filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).map((e) => e.tagName),
        urls: all.filter((e) => ['href', 'src', 'xlink:href', 'action', 'formaction', 'srcdoc'].some((a) => e.hasAttribute(a))).map((e) => e.tagName),
        styles: document.querySelectorAll('style').length,
        body: document.body.innerText,
        height: Math.ceil(document.documentElement.scrollHeight),
      };
    })()`,
  }, sessionId);
  const dom = result.value;
  const wanted = (expected.exceptions || []).map((m) => m.toLowerCase()).sort();
  const shown = dom.exceptions.map((m) => m.toLowerCase()).sort();
  if (JSON.stringify(wanted) !== JSON.stringify(shown))
    fail('exception rows: ' + shown.length + ' shown, ' + wanted.length + ' expected; first missing: ' +
         (wanted.find((m) => !shown.includes(m)) || shown.find((m) => !wanted.includes(m))));
  if (wanted.length && dom.bars !== wanted.length) fail('timeline bars: ' + dom.bars + ', expected ' + wanted.length);
  for (const [selector, count] of Object.entries(expected.rows || {}))
    if (dom.rows[selector] !== count) fail(selector + ': ' + dom.rows[selector] + ' elements, expected ' + count);
  for (const [selector, value] of Object.entries(expected.counts || {}))
    if (dom.counts[selector] !== value) fail(selector + ' reads ' + JSON.stringify(dom.counts[selector]) + ', expected ' + JSON.stringify(value));
  if (dom.active.length) fail('active elements: ' + dom.active.join(', '));
  if (dom.handlers.length) fail('elements with event handlers: ' + dom.handlers.join(', '));
  if (dom.urls.length) fail('elements with a URL attribute: ' + dom.urls.join(', '));
  if (dom.styles !== 1) fail(dom.styles + ' style elements, expected the page\'s one');
  for (const text of expected.texts || [])
    if (!dom.body.includes(text)) fail('the page does not show, as text: ' + text);
  if (logged.length) fail('the browser logged: ' + logged.slice(0, 5).join(' | '));

  // The artifacts: the whole page as a reader sees it, and printed.
  await send('Emulation.setDeviceMetricsOverride', { width: 1100, height: Math.min(dom.height, 16000), deviceScaleFactor: 1, mobile: false }, sessionId);
  const shot = await send('Page.captureScreenshot', { format: 'png' }, sessionId);
  fs.writeFileSync(prefix + '.png', Buffer.from(shot.data, 'base64'));
  const pdf = await send('Page.printToPDF', { printBackground: true, preferCSSPageSize: true }, sessionId);
  fs.writeFileSync(prefix + '.pdf', Buffer.from(pdf.data, 'base64'));
  if (requests.filter((request) => request !== url).length !== others.length) fail('requests made while printing');
  console.log(path.basename(page) + ': ' + shown.length + ' exceptions, ' + requests.length + ' request(s), the page only, ' +
              'screenshot ' + prefix + '.png, PDF ' + (Buffer.from(pdf.data, 'base64').length) + ' bytes');
  await send('Browser.close').catch(() => {});
  finish();
}
main().catch((error) => finish(error.message));
