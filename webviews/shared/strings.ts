/** Strings table sent by the host (English key → translated text) with `{0}` placeholders. */
export type Translate = (key: string, ...args: (string | number)[]) => string;

export function createTranslator(table: Record<string, string> | undefined): Translate {
  return (key, ...args) => {
    const s = table?.[key] ?? key;
    return args.length ? s.replace(/\{(\d+)\}/g, (m, i: string) => (args[+i] !== undefined ? String(args[+i]) : m)) : s;
  };
}
