import type { ErrorInfo } from '@/lib/base/errors';

const HINTS: Record<string, string> = {
  FormatError: 'The file is damaged or is not the format its name says.',
  UnsupportedError: 'The file is valid, but WeightLens does not handle this part of it yet.',
  LimitError: 'The file goes past a safety limit WeightLens keeps against hostile input.',
  NotFoundError: 'Something the file refers to is not there.',
};

export function ErrorPanel({ title, error, testId = 'model-error' }: { title: string; error: ErrorInfo; testId?: string }) {
  return (
    <div className="error-panel" role="alert" data-testid={testId}>
      <h3>Could not open {title}</h3>
      <p className="error-message" data-testid="error-message">
        {error.message}
      </p>
      <p className="muted">
        {error.kind}
        {error.code && error.code !== 'internal' ? ` · ${error.code}` : ''}
        {HINTS[error.kind] ? ` — ${HINTS[error.kind]}` : ''}
      </p>
    </div>
  );
}
