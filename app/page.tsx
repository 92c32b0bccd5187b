import { LandingView } from '@/components/panels/LandingView';

export default function Home() {
  return <LandingView />;
}
