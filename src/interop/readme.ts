// The export folder's README: what is there, one command per stage for one GPU, several GPUs and several
// machines, how to bring results back, and the measured differences between the two engines' definitions.
import type { Config } from '../config/index.js';
import type { ExportManifest } from './manifest.js';
import { MERGED_SFT_DIR, outputDir, splitBatch, type TrlStageConfig } from './trl-config.js';

const code = (lines: string[]): string => '```sh\n' + lines.join('\n') + '\n```\n';

function launchCommands(s: TrlStageConfig): string {
  const cmd = `trl ${s.command} --config ${s.stage}.yaml`;
  const pre = s.stage === 'dpo' ? [`python merge_adapter.py ${'${BASE}'} ${outputDir('sft-unified')} ${MERGED_SFT_DIR}   # once, after sft-unified`] : [];
  const multi = (gpus: number) => {
    const split = splitBatch(s.batchSize, s.gradAccum, gpus);
    return split ? ` --per_device_train_batch_size ${split.perDevice} --gradient_accumulation_steps ${split.gradAccum}` : ' # global batch not divisible: set the batch flags by hand';
  };
  return (
    `### ${s.stage} (${s.totalSteps} optimizer steps, global batch ${s.batchSize * s.gradAccum})\n\n` +
    code([
      ...pre,
      '# one GPU',
      cmd,
      '# 4 GPUs of one machine (same global batch)',
      `${cmd} --accelerate_config accelerate/multi-gpu.yaml --num_processes 4${multi(4)}`,
      '# 2 machines x 8 GPUs: run on each machine with its rank (0 on the main one)',
      `${cmd} --accelerate_config accelerate/multi-node.yaml --num_machines 2 --num_processes 16 --machine_rank $RANK --main_process_ip $MAIN_HOST --main_process_port 29500${multi(16)}`,
      '# back into the run folder',
      `unitrace import ${outputDir(s.stage)} --into RUN_DIR --stage ${s.stage}`,
    ])
  );
}

export function exportReadme(m: ExportManifest, stages: TrlStageConfig[], config: Config): string {
  const eq = m.baseModel.equivalence;
  const rows = m.differences.map((d) => `| ${d.topic} | ${d.unitrace} | ${d.trl} | ${d.effect} |`).join('\n');
  return `# unitrace run "${m.runName}" as a TRL job

Written by \`unitrace export\` from \`${m.runDir}\` (preset ${m.preset}) on ${m.exportedAt}. Everything here runs
with Hugging Face TRL 1.13 + PEFT + accelerate on any machine (\`pip install trl peft transformers accelerate datasets torch\`);
unitrace is only needed to bring the results back.

| file | what |
| --- | --- |
${stages.map((s) => `| \`${s.stage}.yaml\` | \`trl ${s.command}\` config: the run's settings for ${s.stage} (${m.stages.find((x) => x.stage === s.stage)?.rows} rows, ${s.totalSteps} steps) |`).join('\n')}
| \`run.sh\` | the four stages in order (the DPO stage first merges the unified SFT adapter) |
| \`data/\` | the datasets: SFT as conversational prompt-completion rows (loss on the completion only), DPO as prompt / chosen / rejected |
| \`accelerate/\` | accelerate configs: one GPU, several GPUs, several machines |
| \`eval/prompts.jsonl\`, \`generate.py\` | the evaluation prompts (messages and the exact prompt text) and a transformers script that answers them |
| \`merge_adapter.py\` | folds a LoRA adapter into its base (DPO's start and reference) |
| \`${m.baseModel.path}\` | the base model: ${m.baseModel.from} |

## Run everything

\`\`\`sh
./run.sh                       # sft-original, sft-cot, sft-unified, then dpo, into out/<stage>
./run.sh --max_steps 2         # a quick check: every stage for two steps
\`\`\`

Each stage writes \`out/<stage>/\` (the PEFT adapter, \`checkpoint-N/trainer_state.json\` with the log of every step,
\`trl-env.txt\` with versions and hardware). Bring each back into the unitrace run folder, then evaluate and report as usual:

\`\`\`sh
for s in sft-original sft-cot sft-unified dpo; do unitrace import out/$s --into RUN_DIR --stage $s; done
unitrace eval --run RUN_DIR && unitrace report RUN_DIR
\`\`\`

## One command per stage

\`BASE\` below is \`${m.baseModel.path}\`. Several GPUs keep the run's global batch (per-device batch x GPUs x accumulation).

${stages.map(launchCommands).join('\n')}
## Evaluation at scale

Generating with the trained models is often faster where they were trained. \`generate.py\` answers
\`eval/prompts.jsonl\` (${m.evalPrompts.rows} prompts, the run's decoding: ${config.eval.maxNewTokens} new tokens, temperature ${config.eval.temperature})
with transformers and writes \`responses/<model>.jsonl\`, one \`{"id", "response"}\` per prompt:

\`\`\`sh
for model in reference sft-original sft-cot sft-unified sft-unified-dpo; do python generate.py --model $model; done
unitrace eval --run RUN_DIR --responses responses      # scores them as unitrace's own generations; judge, report as usual
\`\`\`

Any other generator (vLLM, TGI) works the same way: feed each row's \`prompt\` text (or apply the chat template to
\`messages\` with the generation prompt), stop at \`<|im_end|>\`, and write \`{"id", "response"}\` lines. The core of it:

\`\`\`python
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained("${m.baseModel.path}")
model = AutoModelForCausalLM.from_pretrained("${m.baseModel.path}")   # + PeftModel.from_pretrained(model, "out/sft-unified")
ids = tok(row["prompt"], return_tensors="pt", add_special_tokens=False)
out = model.generate(**ids, max_new_tokens=${config.eval.maxNewTokens}, do_sample=False, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"))
response = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
\`\`\`

## Where unitrace and TRL differ

Measured on this run's data with unitrace's own code when this folder was written:

| topic | unitrace | TRL 1.13 | effect on this run |
| --- | --- | --- | --- |
${rows}
${
  eq
    ? `
## The base model folder

The run's model (${eq.source}) has a pruned vocabulary of ${eq.prunedVocab} Qwen ids, which Hugging Face tools
cannot serve. \`base-model/\` is the same network over Qwen2.5's full vocabulary of ${eq.fullVocab} ids, served by the
real Qwen tokenizer: each of the ${eq.prunedVocab} ids keeps its own input and output rows, bit for bit. The
${eq.fullVocab - eq.prunedVocab} ids it lacks are spelled with byte tokens inside unitrace, which one row cannot do:
their input row is the mean of those bytes' rows, and their output row points against a direction most of the
model's final hidden states share (scale ${eq.suppression.alpha.toFixed(2)}), so they mostly get logits far below the mapped ids.
A trained model's hidden states do not all lie on one side of any direction, so this is not exact: on ${eq.probedPositions}
positions of this run's texts the lacking ids lower the mapped ids' log-probabilities by ${eq.suppression.meanLogProbShift.toFixed(3)} nats
on average, take more than 0.1% of the probability at ${(100 * eq.suppression.shareAbove1e3).toFixed(1)}% of the positions and at most
${eq.suppression.maxMass.toPrecision(2)} at one. TRL's losses on this folder are therefore a little higher than unitrace's on the
pruned model (the logits of the mapped ids themselves are identical). Text whose Qwen tokens are all in the
pruned vocabulary gets the same logits in both; LoRA on the attention projections does not touch the vocabulary rows,
so adapters trained on either move to the other unchanged (\`unitrace import\` copies them).
`
    : ''
}`;
}
