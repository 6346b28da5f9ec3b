/**
 * Theme helpers: read VS Code theme colours from the CSS variables the
 * workbench injects into every webview, and observe theme switches (VS Code
 * changes the body class: vscode-light / vscode-dark / vscode-high-contrast…).
 */
export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export function cssVar(name: string, fallback = ''): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export interface ThemeColors {
  kind: ThemeKind;
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  focus: string;
  fontFamily: string;
  fontSize: number;
  /** Series palette from the workbench's `charts.*` colours. */
  series: string[];
  red: string;
  green: string;
  blue: string;
  yellow: string;
  orange: string;
  purple: string;
}

export function readThemeColors(): ThemeColors {
  const kind = themeKind();
  const dark = kind === 'dark' || kind === 'high-contrast';
  const foreground = cssVar('--vscode-editor-foreground', dark ? '#cccccc' : '#333333');
  const red = cssVar('--vscode-charts-red', '#f14c4c');
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  const yellow = cssVar('--vscode-charts-yellow', '#cca700');
  const orange = cssVar('--vscode-charts-orange', '#d18616');
  const green = cssVar('--vscode-charts-green', '#89d185');
  const purple = cssVar('--vscode-charts-purple', '#b180d7');
  const size = parseFloat(cssVar('--vscode-font-size', '13'));
  return {
    kind,
    foreground,
    muted: cssVar('--vscode-descriptionForeground', foreground),
    background: cssVar('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', dark ? '#454545' : '#c8c8c8')),
    focus: cssVar('--vscode-focusBorder', blue),
    fontFamily: cssVar('--vscode-font-family', 'sans-serif'),
    fontSize: Number.isFinite(size) ? size : 13,
    series: [blue, orange, green, purple, red, yellow, cssVar('--vscode-terminal-ansiCyan', '#11a8cd'), cssVar('--vscode-terminal-ansiMagenta', '#bc3fbc')],
    red, green, blue, yellow, orange, purple,
  };
}

/** Call `cb` whenever the webview's theme changes. Returns a disposer. */
export function onThemeChange(cb: (colors: ThemeColors) => void): () => void {
  let last = document.body.className;
  const obs = new MutationObserver(() => {
    if (document.body.className === last) return;
    last = document.body.className;
    cb(readThemeColors());
  });
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return () => obs.disconnect();
}

/** Mix a CSS colour with transparency (works for #rgb, #rrggbb, #rrggbbaa and rgb()/rgba()). */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (hex) {
    let h = hex[1];
    if (h.length === 3 || h.length === 4) h = h.split('').map((x) => x + x).join('');
    const r = parseInt(h.slice(0, 2), 16), g = parseInt(h.slice(2, 4), 16), b = parseInt(h.slice(4, 6), 16);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (rgb) {
    const [r, g, b] = rgb[1].split(/[ ,/]+/).filter(Boolean);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return c;
}
