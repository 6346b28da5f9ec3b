/**
 * Helpers shared by Few-Shot Lab webviews (dashboard, compare). Browser-only,
 * no Node imports, no network:
 *  - vscode.ts   typed acquireVsCodeApi wrapper (post/getState/setState) + onHostMessage
 *  - theme.ts    theme colours from the workbench CSS variables, onThemeChange (MutationObserver on body class), withAlpha
 *  - chart.ts    chart.js from window.Chart (dist/webviews/chart.umd.js via asWebviewUri), theme defaults, restyle, pointCount, heat
 *  - strings.ts  translator over the host's strings table ({0} placeholders)
 *  - dom.ts      h() element builder (no innerHTML), clear(), formatDuration()
 */
export * from './vscode';
export * from './theme';
export * from './chart';
export * from './strings';
export * from './dom';
