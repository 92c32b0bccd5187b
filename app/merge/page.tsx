import { ComingNext } from '@/components/ui/ComingNext';

export default function Page() {
  return <ComingNext title="Merge" description="Interpolation curves and barriers between two checkpoints; weight matching, task arithmetic, TIES, DARE, SLERP." />;
}
