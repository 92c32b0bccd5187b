import { ComingNext } from '@/components/ui/ComingNext';

export default function Page() {
  return <ComingNext title="Prune" description="Magnitude, N:M, LIFT, DIMAP and AlphaPruning masks: which weights each removes, layer by layer." />;
}
