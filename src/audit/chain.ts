import { Value } from '@sinclair/typebox/value';
import { AuditEntrySchema, entryHash, type AuditEntry } from './entry.ts';

/**
 * What broke the chain:
 * - `changed`: an entry's content no longer matches its own hash (it was edited);
 * - `gap`: an entry does not follow the one before it (entries between were deleted, or the one
 *   before was edited and re-hashed); in an exported file, also what a filtered export looks like;
 * - `start`: the oldest entry does not follow the genesis or the retention anchor (older entries
 *   were deleted outside pruning);
 * - `order`: ids do not increase;
 * - `malformed`: an exported line is not an audit entry.
 */
export type ChainProblem = 'changed' | 'gap' | 'start' | 'order' | 'malformed';

export interface VerifyResult {
  ok: boolean;
  /** Entries whose hashes were recomputed. */
  checked: number;
  firstId?: number;
  lastId?: number;
  /** Hash of the newest entry checked. Kept elsewhere, it also reveals later removal of the newest entries. */
  lastHash?: string;
  /** The prevHash the chain was checked from: 64 zeros, or the hash of the last pruned entry. */
  startHash?: string;
  /** The first problem found; `line` is set when verifying an exported file. */
  brokenAt?: { id: number; line?: number; problem: ChainProblem; reason: string };
}

type Problem = NonNullable<VerifyResult['brokenAt']>;

/** Where a chain starts: the genesis (64 zeros) or the last entry removed by retention pruning. */
export interface ChainStart {
  hash: string;
  /** Id of the last pruned entry; unset at the genesis. */
  anchorId?: number;
}

/** Walks entries oldest first, recomputing each hash and checking each link. */
export class ChainWalk {
  private checked = 0;
  private firstId: number | undefined;
  private lastId: number | undefined;
  private lastHash: string | undefined;
  private startHash: string | undefined;

  /** Without a start (an exported file), the first entry's prevHash is taken as given. */
  constructor(private readonly start?: ChainStart) {
    this.startHash = start?.hash;
  }

  /** Checks the next entry; returns the problem it shows, if any, and moves on past it. */
  step(e: AuditEntry): Problem | undefined {
    const problem = this.problemOf(e);
    this.checked++;
    this.firstId ??= e.id;
    this.startHash ??= e.prevHash;
    this.lastId = e.id;
    this.lastHash = e.hash;
    return problem;
  }

  result(brokenAt?: Problem): VerifyResult {
    return {
      ok: brokenAt === undefined,
      checked: this.checked,
      ...(this.firstId !== undefined && { firstId: this.firstId, lastId: this.lastId, lastHash: this.lastHash }),
      ...(this.startHash !== undefined && { startHash: this.startHash }),
      ...(brokenAt && { brokenAt }),
    };
  }

  private problemOf(e: AuditEntry): Problem | undefined {
    const id = e.id;
    if (this.lastId !== undefined && id <= this.lastId) {
      return { id, problem: 'order', reason: `entry ${id} comes after entry ${this.lastId}: the entries are out of order` };
    }
    if (this.lastId === undefined && this.start?.anchorId !== undefined && id <= this.start.anchorId) {
      return { id, problem: 'order', reason: `entry ${id} is not newer than the last pruned entry ${this.start.anchorId}` };
    }
    if (entryHash(e.prevHash, e) !== e.hash) {
      return { id, problem: 'changed', reason: `entry ${id} was altered after it was written: its content does not match its hash` };
    }
    const expected = this.lastHash ?? this.start?.hash;
    if (expected === undefined || e.prevHash === expected) return undefined;
    if (this.lastId !== undefined) {
      return {
        id,
        problem: 'gap',
        reason: `entry ${id} does not follow entry ${this.lastId}: its prevHash is not the hash of entry ${this.lastId}, so entries between them were deleted or entry ${this.lastId} was altered`,
      };
    }
    return {
      id,
      problem: 'start',
      reason:
        this.start?.anchorId === undefined
          ? `entry ${id} is the oldest entry but does not start the chain: older entries were deleted outside retention pruning`
          : `entry ${id} does not follow the last pruned entry ${this.start.anchorId}: entries after it were deleted, or the retention anchor was altered`,
    };
  }
}

/** Reads one exported line as an audit entry, or says what is wrong with it. */
export function parseLine(line: string, lineNo: number): AuditEntry | Problem {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { id: 0, line: lineNo, problem: 'malformed', reason: `line ${lineNo} is not JSON: ${(e as Error).message}` };
  }
  if (!Value.Check(AuditEntrySchema, value)) {
    const first = Value.Errors(AuditEntrySchema, value).First();
    const id = typeof (value as any)?.id === 'number' ? (value as any).id : 0;
    return { id, line: lineNo, problem: 'malformed', reason: `line ${lineNo} is not an audit entry: ${first?.path || '/'} ${first?.message ?? 'is invalid'}` };
  }
  return value;
}

const isProblem = (v: AuditEntry | Problem): v is Problem => 'problem' in v;

/**
 * Verifies an exported JSON-lines file offline. A full export (from the oldest retained entry)
 * verifies; an altered, reordered or malformed line fails at once. Links that do not join are what
 * a filtered export looks like, so they are reported as "not a contiguous chain", after every
 * line's own hash was still checked.
 */
export async function verifyLines(lines: Iterable<string> | AsyncIterable<string>): Promise<VerifyResult> {
  const walk = new ChainWalk();
  let lineNo = 0;
  let prevId: number | undefined;
  let firstGap: Problem | undefined;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    const parsed = parseLine(line, lineNo);
    if (isProblem(parsed)) return walk.result(parsed);
    const problem = walk.step(parsed);
    if (problem && problem.problem !== 'gap') return walk.result({ ...problem, line: lineNo });
    if (problem && !firstGap) {
      firstGap = {
        id: parsed.id,
        line: lineNo,
        problem: 'gap',
        reason:
          `not a contiguous chain: entry ${parsed.id} (line ${lineNo}) does not follow entry ${prevId} before it. ` +
          'A filtered export looks like this, and so does a file with lines removed. ',
      };
    }
    prevId = parsed.id;
  }
  if (!firstGap) return walk.result();
  const { checked } = walk.result();
  return walk.result({
    ...firstGap,
    reason: `${firstGap.reason}No entry was altered: each of the ${checked} entries matches its own hash. Verify a full, unfiltered export to check the whole chain.`,
  });
}
