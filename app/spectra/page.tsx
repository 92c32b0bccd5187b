import { SpectraView } from '@/components/panels/spectra/SpectraView';
import './spectra.css';

export default function Page() {
  return <SpectraView />;
}
