/**
 * Summarises a V8 sampling heap profile (bench/support/heap-sampling-preload.mjs): sampled bytes
 * allocated by file (the sidecar's own, Node's modules, dependency packages) and by function.
 *
 *   node --import tsx bench/support/heap-profile-top.ts FILE.heapprofile [TOP=20]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { frameLabel, packageOf } from './cpuprofile-top.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface HeapSummary {
  totalBytes: number;
  byFile: { name: string; bytes: number }[];
  byFunction: { name: string; bytes: number }[];
}

export function summariseHeapProfile(head: HeapNode): HeapSummary {
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalBytes = 0;
  const add = (map: Map<string, number>, key: string, bytes: number): void => {
    map.set(key, (map.get(key) ?? 0) + bytes);
  };
  const visit = (node: HeapNode): void => {
    add(byFile, packageOf(node.callFrame.url, node.callFrame.functionName), node.selfSize);
    add(byFunction, frameLabel(node.callFrame), node.selfSize);
    totalBytes += node.selfSize;
    for (const child of node.children) visit(child);
  };
  visit(head);
  const sorted = (map: Map<string, number>): { name: string; bytes: number }[] =>
    [...map].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
  return { totalBytes, byFile: sorted(byFile), byFunction: sorted(byFunction) };
}

export function formatHeapSummary(summary: HeapSummary, top: number): string {
  const share = (bytes: number): string => `${((100 * bytes) / summary.totalBytes).toFixed(1).padStart(5)}%`;
  return [
    `sampled ${(summary.totalBytes / 1e6).toFixed(1)} MB allocated`,
    '-- by file',
    ...summary.byFile.slice(0, top).map((e) => `${share(e.bytes)}  ${e.name}`),
    '-- by function',
    ...summary.byFunction.slice(0, top).map((e) => `${share(e.bytes)}  ${e.name}`),
  ].join('\n');
}

export function readHeapProfile(path: string): HeapNode {
  return (JSON.parse(readFileSync(path, 'utf8')) as { head: HeapNode }).head;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [path, top] = process.argv.slice(2);
  if (path === undefined) throw new Error('usage: heap-profile-top.ts FILE.heapprofile [TOP]');
  console.log(formatHeapSummary(summariseHeapProfile(readHeapProfile(path)), Number(top ?? 20)));
}
