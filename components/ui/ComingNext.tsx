import Link from 'next/link';

export function ComingNext({ title, description }: { title: string; description: string }) {
  return (
    <section className="card coming-next" data-testid="coming-next">
      <h2>{title}</h2>
      <p>{description}</p>
      <p className="muted">
        Coming next. Open a model on the <Link href="/">Models</Link> page meanwhile.
      </p>
    </section>
  );
}
