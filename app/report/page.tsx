import { ReportView } from '@/components/panels/report/ReportView';
import './report.css';

export default function Page() {
  return <ReportView />;
}
