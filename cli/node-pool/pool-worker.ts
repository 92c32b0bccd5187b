import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { toErrorInfo } from '../../lib/base/errors';
import { setDefaultCpuKernel } from '../../lib/math/wasm/spectra-kernels';
import type { Layer } from '../../lib/model/layer';
import { analyzeOne } from './analyze-one';
import { openAnalysis } from './open-analysis';
import type { AnalyzeSpec, FromWorker, ToWorker } from './pool-messages';

/**
 * The worker-thread side of the CLI's pool. A worker opens the model itself (the header only),
 * then takes layer ids one at a time: read that tensor, analyze it, post the small result back.
 * This module also lives inside the CLI bundle, which is what a worker loads; it starts only in a
 * thread started with POOL_ROLE.
 */

export const POOL_ROLE = 'weightlens-analyze-pool';

function startWorker(): void {
  const port = parentPort!;
  const post = (m: FromWorker) => port.postMessage(m);
  let spec: AnalyzeSpec | undefined;
  let opened: Awaited<ReturnType<typeof openAnalysis>> | undefined;
  let byId = new Map<number, Layer>();
  // Messages are handled strictly in order, one layer at a time.
  let chain = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    chain = chain.then(async () => {
      if (msg.type === 'init') {
        spec = msg.spec;
        setDefaultCpuKernel(spec.kernel);
        try {
          opened = await openAnalysis(spec.target, spec.limits);
          byId = new Map(opened.layers.map((l) => [l.id, l]));
          post({ type: 'ready', layers: opened.layers.length });
        } catch (e) {
          post({ type: 'fatal', error: toErrorInfo(e) });
        }
      } else if (msg.type === 'run') {
        const layer = byId.get(msg.layerId);
        if (!opened || !spec || !layer) {
          post({ type: 'fatal', error: { kind: 'Error', code: 'internal', message: `worker has no layer ${msg.layerId}` } });
          return;
        }
        post({ type: 'result', layerId: msg.layerId, outcome: await analyzeOne(opened.source, layer, spec) });
      } else {
        await opened?.close();
        port.close();
      }
    }).catch((e: unknown) => post({ type: 'fatal', error: toErrorInfo(e) }));
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === POOL_ROLE) startWorker();
