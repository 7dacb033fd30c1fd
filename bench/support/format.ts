/** Formatting for the table: fixed decimals, units spelled out. */
export const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
/** A difference with its sign always shown: +0.12, -0.03. */
export const signed = (value: number, digits = 2): string => `${value >= 0 ? '+' : ''}${fixed(value, digits)}`;
export const ratio = (value: number): string => `${fixed(value, 2)}x`;
export const ms = (value: number, digits = 2): string => `${fixed(value, digits)} ms`;
export const us = (value: number): string => `${fixed(value, 0)} µs`;
export const mib = (bytes: number): string => `${fixed(bytes / 2 ** 20, 1)} MB`;
export const perSecond = (value: number): string => `${Math.round(value).toLocaleString('en-US')}/s`;
export const percent = (fraction: number, digits = 1): string => `${fixed(fraction * 100, digits)}%`;
