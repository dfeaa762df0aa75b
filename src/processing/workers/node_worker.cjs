// hydrant local Lambda runtime: Node.js worker (written out by hydrant at start;
// the source of truth is src/processing/workers/node_worker.cjs, embedded at build time).
//
// One long-lived process runs one function's handler, one invocation at a time.
// Protocol on fd 3, a socket to hydrant; fds 1 and 2 go to hydrant's log capture.
// Every message is two frames, each a 4-byte big-endian length and bytes: a JSON
// header, then a body (the event, or the handler's JSON result). See the Python
// worker for the message types. The socket is read synchronously between
// invocations: like a frozen Lambda sandbox, nothing runs while the worker is idle.
'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const PROTO_FD = 3;
let requestId = undefined;
let current = null;  // the invocation in flight: {outcome, settled, settle(outcome)}

function readExact(n) {
  const buf = Buffer.allocUnsafe(n);
  let off = 0;
  while (off < n) {
    let k;
    try {
      k = fs.readSync(PROTO_FD, buf, off, n - off, null);
    } catch (e) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      if (e.code === 'EOF' || e.code === 'ECONNRESET') process.exit(0);
      throw e;
    }
    if (k === 0) process.exit(0);  // hydrant closed the socket: shut down
    off += k;
  }
  return buf;
}

function readMessage() {
  const header = JSON.parse(readExact(readExact(4).readUInt32BE(0)).toString('utf8'));
  const body = readExact(readExact(4).readUInt32BE(0));
  return [header, body];
}

function writeAllSync(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      // stdout becomes non-blocking once anything touches process.stdout.
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      throw e;
    }
  }
}

function send(header, body) {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body, 'utf8');
  const lh = Buffer.alloc(4);
  lh.writeUInt32BE(h.length, 0);
  const lb = Buffer.alloc(4);
  lb.writeUInt32BE(b.length, 0);
  writeAllSync(PROTO_FD, Buffer.concat([lh, h, lb, b]));
}

// console.* as Lambda's Node runtime formats it: time, request id, level, message.
function logLine(level, message) {
  const line = `${new Date().toISOString()}\t${requestId}\t${level}\t${message}\n`;
  writeAllSync(1, Buffer.from(line, 'utf8'));
}

function patchConsole() {
  const make = (level) => (...args) => logLine(level, util.format(...args));
  console.log = make('INFO');
  console.info = make('INFO');
  console.warn = make('WARN');
  console.error = make('ERROR');
  console.debug = make('DEBUG');
  console.trace = (...args) => {
    const err = new Error(util.format(...args));
    err.name = 'Trace';
    logLine('TRACE', err.stack);
  };
}

function errorDoc(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      trace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
    };
  }
  if (typeof err === 'string') return { errorType: 'string', errorMessage: err, trace: [] };
  let message;
  try {
    message = JSON.stringify(err);
  } catch (e) {
    message = String(err);
  }
  return { errorType: typeof err, errorMessage: message, trace: [] };
}

function errorLog(prefix, doc) {
  const logged = { errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace };
  return `${new Date().toISOString()}\t${requestId}\tERROR\t${prefix}\t${JSON.stringify(logged)}`;
}

async function loadHandler(moduleFile, moduleName, functionName) {
  let mod;
  try {
    if (moduleFile.endsWith('.mjs')) {
      mod = await import(pathToFileURL(moduleFile).href);
    } else {
      try {
        mod = require(moduleFile);
      } catch (e) {
        if (e.code !== 'ERR_REQUIRE_ESM') throw e;
        mod = await import(pathToFileURL(moduleFile).href);  // a .js ES module
      }
    }
  } catch (e) {
    let doc = errorDoc(e);
    if (e instanceof SyntaxError) {
      doc = { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `${e.name}: ${e.message}`,
              trace: doc.trace };
    } else if (e && e.code === 'MODULE_NOT_FOUND') {
      doc = { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${e.message}`,
              trace: doc.trace };
    }
    return [null, doc];
  }
  let fn = mod ? mod[functionName] : undefined;
  if (typeof fn !== 'function' && mod && mod.default && typeof mod.default[functionName] === 'function') {
    fn = mod.default[functionName];
  }
  if (typeof fn !== 'function') {
    return [null, { errorType: 'Runtime.HandlerNotFound',
                    errorMessage: `${moduleName}.${functionName} is undefined or not exported`,
                    trace: [] }];
  }
  return [fn, null];
}

function makeContext(header, finish) {
  const env = process.env;
  const deadline = header.deadlineMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: header.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: header.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // The legacy context methods, still honoured by Lambda's runtime.
    done: (err, result) => finish(err, result, false),
    succeed: (result) => finish(null, result, false),
    fail: (err) => finish(err === undefined || err === null ? new Error('handled') : err, undefined, false),
  };
  return context;
}

// Runs the handler as Lambda does: a returned promise settles the invocation; a
// callback does too, at once when context.callbackWaitsForEmptyEventLoop is false,
// else once the event loop is empty; and an invocation still open when the event
// loop empties answers null.
function invoke(handler, header, event) {
  return new Promise((resolve) => {
    const inv = { outcome: null, settled: false };
    inv.settle = (outcome) => {
      if (inv.settled) return;
      inv.settled = true;
      if (current === inv) current = null;
      resolve(outcome);
    };
    const finish = (err, result, fromPromise) => {
      if (inv.outcome !== null || inv.settled) return;
      inv.outcome = err !== undefined && err !== null ? { err } : { result };
      if (fromPromise || !context.callbackWaitsForEmptyEventLoop) inv.settle(inv.outcome);
    };
    const context = makeContext(header, finish);
    const callback = (err, result) => finish(err, result, false);
    current = inv;
    try {
      const ret = handler(event, context, callback);
      if (ret !== null && ret !== undefined && typeof ret.then === 'function') {
        ret.then((result) => finish(null, result, true),
                 (err) => finish(err === undefined || err === null ? new Error('Promise rejected') : err,
                                 undefined, true));
      }
    } catch (e) {
      finish(e, undefined, true);
    }
  });
}

process.on('beforeExit', () => {
  if (current) {
    current.settle(current.outcome !== null ? current.outcome : { result: null });
    // Keep the loop turning, so the next invocation gets its own 'beforeExit'.
    setImmediate(() => {});
  }
});

function reportFatal(errorType, err) {
  // An exception nobody caught: Lambda fails the invocation and ends the sandbox.
  let doc = errorDoc(err);
  if (errorType) doc = { errorType, errorMessage: doc.errorMessage, trace: doc.trace };
  try {
    send({ type: 'error', error: doc, log: errorLog('Uncaught Exception ', doc), fatal: true });
  } finally {
    process.exit(129);
  }
}

process.on('uncaughtException', (err) => reportFatal(null, err));
process.on('unhandledRejection', (reason) => {
  const message = reason instanceof Error ? reason.message : String(reason);
  const err = new Error(message);
  if (reason instanceof Error && reason.stack) err.stack = reason.stack;
  reportFatal('Runtime.UnhandledPromiseRejection', err);
});

async function main() {
  const [taskRoot, moduleFile, moduleName, functionName] = process.argv.slice(2, 6);
  process.chdir(taskRoot);
  patchConsole();
  const [handler, initError] = await loadHandler(moduleFile, moduleName, functionName);
  if (initError) {
    send({ type: 'init_error', error: initError, log: errorLog('Init Error ', initError) });
    process.exit(0);
  }
  send({ type: 'ready', runtime: `nodejs${process.versions.node.split('.')[0]}.x` });
  for (;;) {
    const [header, body] = readMessage();
    requestId = header.requestId;
    let event;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch (e) {
      const doc = { errorType: 'Runtime.UnmarshalError', errorMessage: e.message, trace: [] };
      send({ type: 'error', error: doc, log: errorLog('Invoke Error ', doc) });
      continue;
    }
    const outcome = await invoke(handler, header, event);
    if (outcome.err !== undefined) {
      const doc = errorDoc(outcome.err);
      send({ type: 'error', error: doc, log: errorLog('Invoke Error ', doc) });
      continue;
    }
    let payload;
    try {
      payload = JSON.stringify(outcome.result === undefined ? null : outcome.result);
    } catch (e) {
      const doc = { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
      send({ type: 'error', error: doc, log: errorLog('Invoke Error ', doc) });
      continue;
    }
    send({ type: 'result' }, payload === undefined ? 'null' : payload);
  }
}

main().catch((e) => reportFatal(null, e));
