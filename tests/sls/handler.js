// Firehose data-transformation handlers for AWS Lambda (Node.js), as deployed there.
'use strict';

// Upper-cases the ASCII letters of each record (other bytes unchanged, as Python's
// bytes.upper); records starting with "fail" get ProcessingFailed, records starting
// with "drop" are Dropped.
exports.upper = async (event) => ({
  records: event.records.map((r) => {
    const data = Buffer.from(r.data, 'base64');
    const text = data.toString('latin1');
    if (text.startsWith('fail')) return { recordId: r.recordId, result: 'ProcessingFailed', data: r.data };
    if (text.startsWith('drop')) return { recordId: r.recordId, result: 'Dropped' };
    return { recordId: r.recordId, result: 'Ok', data: Buffer.from(text.replace(/[a-z]+/g, (s) => s.toUpperCase()), 'latin1').toString('base64') };
  }),
});

// Throws: the invocation fails with an Unhandled function error.
exports.boom = async () => {
  throw new Error('boom from node');
};
