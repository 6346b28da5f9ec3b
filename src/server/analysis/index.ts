/** Public surface of the dataset analysis (pure, no vscode). */
export * from './types';
export * from './text';
export * from './checks';
export * from './fixes';
export * from './workspace';
export { msg, isChinese } from './messages';
