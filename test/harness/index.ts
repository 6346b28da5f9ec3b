/** Test harness for Few-Shot Lab: code-server + chromium + helpers. See docs in each module. */
export * from './paths';
export * from './ports';
export * from './workspace';
export * from './codeServer';
export * from './browser';
export * from './results';
export * from './png';
export { runExtensionTests } from './extensionHost';
export * from './suite';
export * from './languagePack';
