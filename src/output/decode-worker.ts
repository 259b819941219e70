// A decoding thread of output/parallel.ts: chunks in, their output (and deferred frames) out.

import { parentPort, workerData } from 'node:worker_threads';
import { ChunkDecoder, type ChunkJob } from './chunk-decode.js';
import type { PacketStreamSettings } from './packet-stream.js';

const decoder = new ChunkDecoder(workerData as PacketStreamSettings, true);
parentPort!.on('message', (job: ChunkJob) => {
  // Shared memory crosses without a copy (and without detaching anything).
  parentPort!.postMessage(decoder.decode(job));
});
