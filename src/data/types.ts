// The dataset rows every stage exchanges (docs/ARCHITECTURE.md, "Shared data shapes").
import type { InstructionCheck } from './checks.js';
import type { Corruption } from '../synth/corrupt.js';

export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type SftSource = 'original' | 'unified' | 'cot' | 'direct';

/** One SFT example in TRL's conversational format, plus where it came from. */
export interface SftExample {
  messages: Message[];
  family?: string;
  groundTruth?: string | number;
  source: SftSource;
  id: string;
}

/** How a pair's rejected side was made: one of synth's corruptions, or an UltraFeedback response. */
export type RejectedKind = Corruption | 'ultrafeedback';

/** One preference pair in TRL's conversational format with an explicit prompt. */
export interface PreferencePair {
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
  family?: string;
  groundTruth?: string | number;
  source: 'unified' | 'original';
  id: string;
  rejectedKind?: RejectedKind;
}

/** A held-out evaluation item. */
export interface EvalItem {
  id: string;
  prompt: Message[];
  family: string;
  ood: boolean;
  groundTruth?: string | number;
  kind: 'trace' | 'instruction';
  check?: InstructionCheck;
  countdown?: { nums: number[]; target: number };
  tolerance?: number;
}
