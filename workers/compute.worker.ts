/// <reference lib="webworker" />
import { createJobRunner } from '../lib/jobs/job-runner';
import type { WorkerIn, WorkerOut } from '../lib/jobs/job-types';

// Thin entry: decode the message, hand it to the runner, post its replies.
const scope = self as unknown as DedicatedWorkerGlobalScope;
const runner = createJobRunner((msg: WorkerOut, transfer?: Transferable[]) => scope.postMessage(msg, transfer ?? []));
scope.addEventListener('message', (ev: MessageEvent<WorkerIn>) => {
  void runner.handle(ev.data);
});
