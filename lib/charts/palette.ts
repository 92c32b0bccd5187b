/**
 * Chart colours, one table per theme, written into CSS custom properties (themeCss) so every chart
 * reads them as var(--…) and an export inlines the resolved values. Categorical series use the
 * Okabe–Ito set, which stays distinguishable with each colour-vision deficiency; sequential maps
 * use viridis/magma/inferno and diverging ones RdBu (both colour-blind-safe by construction). The
 * audit (tests/unit/charts/palette.test.ts) checks every group of colours that share a chart: the
 * smallest CIE76 ΔE under simulated protanopia, deuteranopia and tritanopia, and the 3:1 contrast
 * of marks against the chart background (WCAG 1.4.11).
 */

export type Theme = 'light' | 'dark';

export interface ChartColors {
  /** Chart background (the panel). */
  bg: string;
  /** Text and strong marks. */
  ink: string;
  /** Secondary text (axis labels). */
  ink2: string;
  /** Tick labels. */
  muted: string;
  axis: string;
  grid: string;
  /** Bands and other faint fills. */
  band: string;
  /** The selected mark's outline. */
  select: string;
  /** A value that is missing or not applicable. */
  missing: string;
  /** Categorical series, in the order charts hand them out. */
  series: readonly string[];
  /** A neutral series (a reference or baseline line). */
  neutral: string;
  /** Spectra: the raw ESD and its fit, the FARMS ESD and its fit, the Marchenko–Pastur fit. */
  raw: string;
  farms: string;
  mp: string;
  /** α and the KS distance D along depth. */
  alpha: string;
  dist: string;
  /** Signed differences (B − A > 0, < 0). */
  positive: string;
  negative: string;
  /** Highlights: the current setting, a removed weight, an RTN tick, a zoom box. */
  highlight: string;
  removed: string;
  zoom: string;
  /** Bars of a per-layer chart, the selected bar, a target or RTN tick across a bar, an α dot. */
  bar: string;
  barSelected: string;
  tick: string;
  alphaDot: string;
}

const OKABE_ITO = {
  blue: '#0072b2',
  vermillion: '#d55e00',
  green: '#009e73',
  purple: '#cc79a7',
  orange: '#e69f00',
  sky: '#56b4e9',
  yellow: '#f0e442',
} as const;

/** Categorical fills that do not change with the theme (treemap groups, dtype bars): Okabe–Ito. */
export const CATEGORICAL_FILLS: readonly string[] = [OKABE_ITO.blue, OKABE_ITO.orange, OKABE_ITO.green, OKABE_ITO.purple, OKABE_ITO.sky, OKABE_ITO.vermillion, OKABE_ITO.yellow];

export const CHART_COLORS: Record<Theme, ChartColors> = {
  light: {
    bg: '#ffffff',
    ink: '#1d2330',
    ink2: '#475467',
    muted: '#5d6679',
    axis: '#7d879a',
    grid: '#eef0f4',
    band: '#f1f3f7',
    select: '#111111',
    missing: '#c4c9d2',
    // Okabe–Ito's orange, sky blue and yellow are under 3:1 on white: left out of the light series.
    series: [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.green, OKABE_ITO.purple],
    neutral: '#444444',
    raw: OKABE_ITO.blue,
    farms: OKABE_ITO.vermillion,
    mp: OKABE_ITO.green,
    alpha: OKABE_ITO.blue,
    dist: OKABE_ITO.vermillion,
    positive: OKABE_ITO.vermillion,
    negative: OKABE_ITO.blue,
    highlight: '#c00000',
    removed: OKABE_ITO.vermillion,
    zoom: OKABE_ITO.sky,
    bar: OKABE_ITO.blue,
    barSelected: OKABE_ITO.vermillion,
    tick: '#1d2330',
    alphaDot: OKABE_ITO.purple,
  },
  dark: {
    bg: '#171c26',
    ink: '#e6e9ef',
    ink2: '#c3c9d4',
    muted: '#a3acbb',
    axis: '#6b7689',
    grid: '#262d3a',
    band: '#1e2430',
    select: '#ffffff',
    missing: '#4a5263',
    series: [OKABE_ITO.sky, OKABE_ITO.orange, OKABE_ITO.green, OKABE_ITO.purple],
    neutral: '#c9ced8',
    raw: OKABE_ITO.sky,
    farms: OKABE_ITO.orange,
    mp: OKABE_ITO.green,
    alpha: OKABE_ITO.sky,
    dist: OKABE_ITO.orange,
    positive: OKABE_ITO.orange,
    negative: OKABE_ITO.sky,
    highlight: '#ff6b6b',
    removed: OKABE_ITO.orange,
    zoom: OKABE_ITO.yellow,
    bar: OKABE_ITO.sky,
    barSelected: OKABE_ITO.orange,
    tick: '#e6e9ef',
    alphaDot: OKABE_ITO.purple,
  },
};

/**
 * The page's own colours (backgrounds, text, lines, states), by CSS custom property name without
 * the leading dashes; written with the chart colours by themeCss so each theme is stated once.
 */
export const UI_COLORS: Record<Theme, Readonly<Record<string, string>>> = {
  light: {
    'bg': '#f6f7f9',
    'panel': '#ffffff',
    'ink': '#1d2330',
    'ink-2': '#475467',
    'muted': '#5d6679',
    'line': '#e3e6ec',
    'line-strong': '#b9c0cc',
    'accent': '#3b5bdb',
    'accent-hover': '#324fc4',
    'accent-soft': '#e8edff',
    'on-accent': '#ffffff',
    'ok': '#2b8a3e',
    'ok-soft': '#e6f7ec',
    'warn': '#b93a06',
    'warn-soft': '#fff4e5',
    'warn-ink': '#8a5300',
    'err': '#c92a2a',
    'err-soft': '#fff1f1',
    'err-line': '#f5c2c2',
    'hover': '#eceff4',
    'hover-strong': '#dde2ea',
    'th-bg': '#f2f4f7',
    'row-line': '#f0f2f5',
    'row-hover': '#f6f8ff',
    'input-bg': '#ffffff',
    'track': '#eef0f4',
    'badge-bg': '#eef0f4',
    'badge-ink': '#344054',
    'dot-idle': '#8c96a8',
    'dot-busy': '#d08700',
    'over-bg': '#fff4f0',
    'over-line': '#f3b9a5',
    'under-bg': '#eef5ff',
    'under-line': '#a9c3f0',
    'focus': '#3b5bdb',
    'dropzone-line': '#c7cedb',
  },
  dark: {
    'bg': '#0f131b',
    'panel': '#171c26',
    'ink': '#e6e9ef',
    'ink-2': '#c3c9d4',
    'muted': '#a3acbb',
    'line': '#2c3444',
    'line-strong': '#4a5468',
    'accent': '#8ea6ff',
    'accent-hover': '#a8baff',
    'accent-soft': '#232d52',
    'on-accent': '#0f131b',
    'ok': '#69db7c',
    'ok-soft': '#17301f',
    'warn': '#ffa94d',
    'warn-soft': '#33240f',
    'warn-ink': '#ffc078',
    'err': '#ff8787',
    'err-soft': '#2d1618',
    'err-line': '#6b2c2c',
    'hover': '#222a38',
    'hover-strong': '#2c3546',
    'th-bg': '#1d2330',
    'row-line': '#222a37',
    'row-hover': '#1e2740',
    'input-bg': '#10141c',
    'track': '#262d3a',
    'badge-bg': '#252c3a',
    'badge-ink': '#c3c9d4',
    'dot-idle': '#6b7689',
    'dot-busy': '#ffc078',
    'over-bg': '#3a2119',
    'over-line': '#8a4b33',
    'under-bg': '#1a2740',
    'under-line': '#3d5a8a',
    'focus': '#8ea6ff',
    'dropzone-line': '#3a4456',
  },
};

/** Colours that appear together in one chart, by chart: what the colour-vision audit checks. */
export function chartGroups(c: ChartColors): Record<string, readonly string[]> {
  return {
    'series (line charts, rate–distortion, accuracy vs sparsity)': [...c.series, c.neutral],
    'ESD: raw, FARMS, Marchenko–Pastur': [c.raw, c.farms, c.mp],
    'α and D along depth': [c.alpha, c.dist],
    'comparison: B − A above and below zero': [c.positive, c.negative, c.missing],
    'per-layer bars: bar, selected bar, target tick, α dot': [c.bar, c.barSelected, c.tick, c.alphaDot],
    'score histogram: kept, removed': [c.bar, c.removed],
    'quantization maps: current setting, zoom box': [c.highlight, c.zoom],
    'treemap groups and dtype mix': CATEGORICAL_FILLS,
  };
}

/** Colours that carry meaning as marks: each must reach 3:1 against the chart background (WCAG 1.4.11). */
export function markColors(c: ChartColors): readonly string[] {
  return [...c.series, c.neutral, c.raw, c.farms, c.mp, c.alpha, c.dist, c.positive, c.negative, c.highlight, c.removed, c.bar, c.barSelected, c.tick, c.alphaDot, c.axis, c.ink, c.ink2, c.muted];
}

const CSS_NAMES: Record<Exclude<keyof ChartColors, 'series'>, string> = {
  bg: '--chart-bg',
  ink: '--chart-ink',
  ink2: '--chart-ink-2',
  muted: '--chart-muted',
  axis: '--chart-axis',
  grid: '--chart-grid',
  band: '--chart-band',
  select: '--chart-select',
  missing: '--chart-missing',
  neutral: '--chart-neutral',
  raw: '--c-raw',
  farms: '--c-farms',
  mp: '--c-mp',
  alpha: '--c-alpha',
  dist: '--c-d',
  positive: '--c-pos',
  negative: '--c-neg',
  highlight: '--c-highlight',
  removed: '--c-removed',
  zoom: '--c-zoom',
  bar: '--c-bar',
  barSelected: '--c-bar-selected',
  tick: '--c-tick',
  alphaDot: '--c-alpha-dot',
};

/** Distinct series colours per theme; a chart with more series repeats them, dashed (seriesDash). */
export const SERIES_COLORS = CHART_COLORS.light.series.length;

/** `var(--s<i>)`: the i-th categorical series colour (cycled) of the current theme. */
export function seriesVar(i: number): string {
  return `var(--s${(i % SERIES_COLORS) + 1})`;
}

/** The dash of the i-th series: solid for the first round of colours, then dashed, then dotted. */
export function seriesDash(i: number): string | undefined {
  const round = Math.floor(i / SERIES_COLORS);
  return round === 0 ? undefined : round === 1 ? '6 3' : '2 3';
}

function declarations(theme: Theme): string {
  const c = CHART_COLORS[theme];
  const out = Object.entries(CSS_NAMES).map(([k, name]) => `${name}:${c[k as keyof typeof CSS_NAMES]}`);
  c.series.forEach((s, i) => out.push(`--s${i + 1}:${s}`));
  for (const [name, v] of Object.entries(UI_COLORS[theme])) out.push(`--${name}:${v}`);
  out.push(`color-scheme:${theme}`);
  return out.join(';');
}

/**
 * The page and chart colours as CSS: light by default, dark under [data-theme="dark"], and the
 * system's preference when the user chose "system" ([data-theme] absent).
 */
export function themeCss(): string {
  return [
    `:root{${declarations('light')}}`,
    `:root[data-theme="dark"]{${declarations('dark')}}`,
    `@media (prefers-color-scheme: dark){:root:not([data-theme]){${declarations('dark')}}}`,
  ].join('\n');
}
