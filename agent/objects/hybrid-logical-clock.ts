// Version ids and their order come from a hybrid logical clock (Kulkarni et al., "Logical
// Physical Clocks", 2014): the physical time in milliseconds, plus a counter that breaks ties
// and keeps ids growing when the wall clock stalls or steps back, plus a node id so two hosts
// never mint the same id. The textual form is fixed-width lowercase hex, so ids sort as strings
// exactly as they sort in time, in SQLite and in JavaScript alike.
import assert from 'node:assert/strict';

const physicalHexDigits = 12;
const counterHexDigits = 4;
const nodeHexDigits = 8;
const maximumCounter = 0xffff;

/** Length of every id minted by a HybridLogicalClock. */
export const hybridTimestampLength = physicalHexDigits + counterHexDigits + nodeHexDigits;

const timestampPattern = new RegExp(`^[0-9a-f]{${hybridTimestampLength}}$`);

export interface HybridLogicalClock {
  /** A new id, greater than every id this clock has minted or observed. */
  next(): string;
  /** Moves the clock past an id received from another host, so later ids sort after it. */
  observe(timestamp: string): void;
}

export function createHybridLogicalClock(options: {
  clock: () => number;
  nodeId: string;
}): HybridLogicalClock {
  assert.match(options.nodeId, new RegExp(`^[0-9a-f]{${nodeHexDigits}}$`), 'nodeId must be 8 hex digits');
  let lastPhysicalMs = 0;
  let counter = 0;
  const advance = (physicalMs: number, seenCounter: number): void => {
    if (physicalMs > lastPhysicalMs) {
      lastPhysicalMs = physicalMs;
      counter = seenCounter;
    } else {
      counter = Math.max(counter, seenCounter);
    }
  };
  return {
    next() {
      const wallMs = Math.floor(options.clock());
      if (wallMs > lastPhysicalMs) {
        lastPhysicalMs = wallMs;
        counter = 0;
      } else if (counter < maximumCounter) {
        counter += 1;
      } else {
        // 65,536 ids in one millisecond: borrow the next millisecond rather than repeat an id.
        lastPhysicalMs += 1;
        counter = 0;
      }
      return formatTimestamp(lastPhysicalMs, counter, options.nodeId);
    },
    observe(timestamp) {
      const parsed = parseHybridTimestamp(timestamp);
      advance(parsed.physicalMs, parsed.counter);
    },
  };
}

function formatTimestamp(physicalMs: number, counter: number, nodeId: string): string {
  return (
    physicalMs.toString(16).padStart(physicalHexDigits, '0') +
    counter.toString(16).padStart(counterHexDigits, '0') +
    nodeId
  );
}

export function isHybridTimestamp(text: string): boolean {
  return timestampPattern.test(text);
}

export function parseHybridTimestamp(timestamp: string): {
  physicalMs: number;
  counter: number;
  nodeId: string;
} {
  assert.ok(isHybridTimestamp(timestamp), `not a hybrid timestamp: ${timestamp}`);
  return {
    physicalMs: Number.parseInt(timestamp.slice(0, physicalHexDigits), 16),
    counter: Number.parseInt(timestamp.slice(physicalHexDigits, physicalHexDigits + counterHexDigits), 16),
    nodeId: timestamp.slice(physicalHexDigits + counterHexDigits),
  };
}
