/// <reference lib="webworker" />
import { createInferenceRunner } from '../lib/jobs/inference-runner';
import type { InferenceWorkerIn, InferenceWorkerOut } from '../lib/jobs/inference-types';

// Thin entry: decode the message, hand it to the runner, post its replies.
const scope = self as unknown as DedicatedWorkerGlobalScope;
const runner = createInferenceRunner((msg: InferenceWorkerOut, transfer?: Transferable[]) => scope.postMessage(msg, transfer ?? []));
scope.addEventListener('message', (ev: MessageEvent<InferenceWorkerIn>) => {
  void runner.handle(ev.data);
});
