// "Differences from the paper": the settings of this run (its config.json, and the judge the evaluation
// actually used) beside the paper's, so a reader sees at the top what was not reproduced as the paper did it.
import { PAPER } from './paper.js';

export interface Difference {
  setting: string;
  paper: string;
  ours: string;
  same: boolean;
}

/** What a claim's verdict depends on; a claim is not comparable when one of these differs. */
export type Instrument = 'model' | 'data' | 'teacher' | 'judge';

export interface RunDifferences {
  rows: Difference[];
  /** Which instruments differ, each with the words the verdicts quote. */
  differs: Partial<Record<Instrument, string>>;
}

function get(o: Record<string, unknown> | null, path: string): unknown {
  let node: unknown = o;
  for (const k of path.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined;
  return node;
}

const str = (v: unknown): string => (v === undefined || v === null ? '(not recorded)' : typeof v === 'string' ? v : JSON.stringify(v));
const ratio = (ours: unknown, paper: number): string => (typeof ours === 'number' && ours !== paper ? ` (${ours > paper ? `${+(ours / paper).toPrecision(3)}x the paper's` : `1/${+(paper / ours).toPrecision(3)} of the paper's`})` : '');

/** The model is the paper's when its folder name says Qwen2.5-0.5B (a real checkpoint, not the embedded one). */
const isPaperModel = (source: unknown): boolean => typeof source === 'string' && source !== 'embedded' && /qwen2\.5-0\.5b/i.test(source);

/**
 * `judgeUsed`: the judge the evaluation recorded in eval/summary.json (e.g. 'offline-rubric' or
 * 'claude:claude-sonnet-...'); null when the run has no evaluation (the configured one is shown).
 */
export function differencesFromPaper(config: Record<string, unknown> | null, judgeUsed: string | null): RunDifferences {
  const c = (p: string): unknown => get(config, p);
  const rows: Difference[] = [];
  const differs: RunDifferences['differs'] = {};
  const add = (setting: string, paper: string, ours: string, same: boolean, instrument?: Instrument): void => {
    rows.push({ setting, paper, ours, same });
    if (!same && instrument) differs[instrument] = `${setting}: ${ours} instead of ${paper}`;
  };
  add('base model', PAPER.model, str(c('model.source')), isPaperModel(c('model.source')), 'model');
  const original = c('mix.original');
  add('original data', PAPER.originalData, original === 'embedded' ? "the kit's embedded instruction set" : `${str(original)} (${str(c('mix.nOriginal'))} examples)`, original !== 'embedded' && c('mix.nOriginal') === PAPER.nOriginal, 'data');
  add('synthetic traces', String(PAPER.nSynthetic), str(c('mix.nSynthetic')), c('mix.nSynthetic') === PAPER.nSynthetic, 'data');
  const teacher = c('synth.teacher');
  add('trace teacher', PAPER.teacher, teacher === 'claude' ? `Claude (${str(c('synth.claudeModel'))})` : 'offline teacher (programmatic traces)', teacher === 'claude', 'teacher');
  const judge = judgeUsed ?? `${str(c('eval.judge'))} (configured; no evaluation yet)`;
  add('answer-quality judge', PAPER.judge, judge, /^claude/i.test(judge), 'judge');
  add('SFT learning rate', String(PAPER.sft.lr), str(c('sft.lr')) + ratio(c('sft.lr'), PAPER.sft.lr), c('sft.lr') === PAPER.sft.lr);
  add('SFT epochs (unified run)', String(PAPER.epochs), str(c('sft.epochs')), c('sft.epochs') === PAPER.epochs);
  add('SFT epochs (baselines)', String(PAPER.epochs), str(c('sft.baselineEpochs')), c('sft.baselineEpochs') === PAPER.epochs);
  add('SFT batch x accumulation', `${PAPER.sft.batchSize} x ${PAPER.sft.gradAccum}`, `${str(c('sft.batchSize'))} x ${str(c('sft.gradAccum'))}`, c('sft.batchSize') === PAPER.sft.batchSize && c('sft.gradAccum') === PAPER.sft.gradAccum);
  add('max prompt + response tokens', `${PAPER.sft.maxPromptTokens} + ${PAPER.sft.maxResponseTokens}`, `${str(c('sft.maxPromptTokens'))} + ${str(c('sft.maxResponseTokens'))}`, c('sft.maxPromptTokens') === PAPER.sft.maxPromptTokens && c('sft.maxResponseTokens') === PAPER.sft.maxResponseTokens);
  add('LoRA r / alpha', `${PAPER.sft.loraR} / ${PAPER.sft.loraAlpha}`, `${str(c('sft.lora.r'))} / ${str(c('sft.lora.alpha'))}`, c('sft.lora.r') === PAPER.sft.loraR && c('sft.lora.alpha') === PAPER.sft.loraAlpha);
  add('DPO learning rate', String(PAPER.dpo.lr), str(c('dpo.lr')) + ratio(c('dpo.lr'), PAPER.dpo.lr), c('dpo.lr') === PAPER.dpo.lr);
  add('DPO epochs', String(PAPER.dpo.epochs), str(c('dpo.epochs')), c('dpo.epochs') === PAPER.dpo.epochs);
  add('DPO beta', String(PAPER.dpo.beta), str(c('dpo.beta')), c('dpo.beta') === PAPER.dpo.beta);
  return { rows, differs };
}
