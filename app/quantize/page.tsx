import { QuantizeView } from '@/components/panels/quantize/QuantizeView';
import '../spectra/spectra.css';
import './quantize.css';

export default function Page() {
  return <QuantizeView />;
}
