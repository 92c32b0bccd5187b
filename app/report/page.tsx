import { ComingNext } from '@/components/ui/ComingNext';

export default function Page() {
  return <ComingNext title="Report" description="The findings of every view gathered on one page, with permalinks and exported charts." />;
}
