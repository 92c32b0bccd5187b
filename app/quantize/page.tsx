import { ComingNext } from '@/components/ui/ComingNext';

export default function Page() {
  return <ComingNext title="Quantize" description="Vector-quantization codebooks vs scalar RTN at equal bits per weight: error, SQNR and codeword usage." />;
}
