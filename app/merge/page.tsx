import { MergeView } from '@/components/panels/merge/MergeView';
import '../spectra/spectra.css';
import '../quantize/quantize.css';

export default function Page() {
  return <MergeView />;
}
