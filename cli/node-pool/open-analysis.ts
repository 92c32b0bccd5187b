import { buildLayers } from '../../lib/model/build-layers';
import type { Layer, LayerOptions } from '../../lib/model/layer';
import type { TensorSource } from '../../lib/formats/types';
import { openTarget } from '../open-target';

/** Opens a model and builds its layer catalog; the main thread and every worker do the same, so ids agree. */
export async function openAnalysis(target: string, limits: LayerOptions): Promise<{ source: TensorSource; layers: Layer[]; close(): Promise<void> }> {
  const { source, close } = await openTarget(target);
  try {
    return { source, layers: buildLayers(source.tensors, source.format, limits), close };
  } catch (e) {
    await close();
    throw e;
  }
}
