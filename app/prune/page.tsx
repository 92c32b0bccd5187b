import { PruneView } from '@/components/panels/prune/PruneView';
import '../spectra/spectra.css';
import '../quantize/quantize.css';

export default function Page() {
  return <PruneView />;
}
