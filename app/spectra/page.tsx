import { ComingNext } from '@/components/ui/ComingNext';

export default function Page() {
  return <ComingNext title="Spectra" description="Eigenvalue spectra of each layer with power-law fits (alpha, D, xmin), norm metrics, Marchenko–Pastur and FARMS." />;
}
