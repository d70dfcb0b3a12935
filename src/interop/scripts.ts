// The small programs an export folder carries besides TRL's own command line: run.sh (the stages in
// order), merge_adapter.py (the unified SFT adapter folded into the base, DPO's start and reference),
// generate.py (the evaluation prompts through transformers, one JSONL of responses per model) and
// the accelerate configs. They run on the user's training machine, never inside unitrace.
import { toYaml } from './yaml.js';
import { MERGED_SFT_DIR, outputDir, STAGES } from './trl-config.js';

export function runScript(runName: string, baseModel: string): string {
  return `#!/usr/bin/env bash
# The stages of unitrace run "${runName}" with TRL, in order (written by \`unitrace export\`).
#   ./run.sh                                   every stage on this machine's accelerators
#   STAGES="sft-unified dpo" ./run.sh          some stages
#   ./run.sh --accelerate_config accelerate/multi-gpu.yaml --num_processes 4 --gradient_accumulation_steps 1
# Arguments after run.sh go to every \`trl sft\` / \`trl dpo\` command; SFT_ARGS / DPO_ARGS to one kind only.
# Then bring the results back:
#   unitrace import out/<stage> --into RUN_DIR --stage <stage>
set -euo pipefail
cd "$(dirname "$0")"
TRL="\${TRL:-trl}"
PYTHON="\${PYTHON:-python}"
STAGES="\${STAGES:-${STAGES.join(' ')}}"
for stage in $STAGES; do
  mkdir -p "out/$stage"
  # versions and hardware, for the provenance record \`unitrace import\` writes
  "$TRL" env > "out/$stage/trl-env.txt" 2>&1 || true
  start=$(date +%s)
  if [ "$stage" = dpo ]; then
    "$PYTHON" merge_adapter.py ${JSON.stringify(baseModel)} ${outputDir('sft-unified')} ${MERGED_SFT_DIR}
    "$TRL" dpo --config dpo.yaml \${DPO_ARGS:-} "$@"
  else
    "$TRL" sft --config "$stage.yaml" \${SFT_ARGS:-} "$@"
  fi
  echo "{\\"stage\\": \\"$stage\\", \\"wallSeconds\\": $(( $(date +%s) - start ))}" > "out/$stage/wall-time.json"
done
`;
}

export const MERGE_SCRIPT = `"""Folds a PEFT LoRA adapter into its base model: python merge_adapter.py BASE ADAPTER OUT.
The merged unified SFT model is where DPO starts and, adapter disabled, its reference (as in unitrace)."""
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

base, adapter, out = sys.argv[1:4]
model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
model.save_pretrained(out)
AutoTokenizer.from_pretrained(base).save_pretrained(out)
print(f"merged {adapter} into {base} -> {out}")
`;

/** The five evaluated models as folders of the export (base, adapter to apply). */
export function evalModelFolders(baseModel: string): Record<string, { base: string; adapter: string | null }> {
  return {
    reference: { base: baseModel, adapter: null },
    'sft-original': { base: baseModel, adapter: outputDir('sft-original') },
    'sft-cot': { base: baseModel, adapter: outputDir('sft-cot') },
    'sft-unified': { base: baseModel, adapter: outputDir('sft-unified') },
    'sft-unified-dpo': { base: MERGED_SFT_DIR, adapter: outputDir('dpo') },
  };
}

export function generateScript(decoding: { maxNewTokens: number; temperature: number; topP: number; seed: number }, baseModel: string): string {
  return `"""Generates the evaluation responses of one model with transformers:
    python generate.py --model sft-unified [--batch-size 8] [--device cuda] [--max-new-tokens N]
reads eval/prompts.jsonl (the exact prompt text unitrace feeds its model) and writes
responses/<model>.jsonl, one {"id", "response", "tokens", "finishReason"} per prompt. Score them with
    unitrace eval --run RUN_DIR --responses responses
Decoding as the unitrace run: max_new_tokens ${decoding.maxNewTokens}, temperature ${decoding.temperature}, top_p ${decoding.topP}, seed ${decoding.seed}."""
import argparse
import json
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

MODELS = ${JSON.stringify(evalModelFolders(baseModel), null, 4).replace(/null/g, 'None')}

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True, choices=sorted(MODELS))
parser.add_argument("--batch-size", type=int, default=8)
parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
parser.add_argument("--out", default="responses")
parser.add_argument("--max-new-tokens", type=int, default=${decoding.maxNewTokens}, help="the run's eval.maxNewTokens unless given")
args = parser.parse_args()

spec = MODELS[args.model]
tokenizer = AutoTokenizer.from_pretrained(spec["base"], padding_side="left")
model = AutoModelForCausalLM.from_pretrained(spec["base"], dtype=torch.float32)
if spec["adapter"]:
    from peft import PeftModel

    model = PeftModel.from_pretrained(model, spec["adapter"]).merge_and_unload()
model.to(args.device).eval()
stop = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
rows = [json.loads(line) for line in open("eval/prompts.jsonl", encoding="utf-8") if line.strip()]
torch.manual_seed(${decoding.seed})
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, args.model + ".jsonl"), "w", encoding="utf-8") as out:
    for start in range(0, len(rows), args.batch_size):
        batch = rows[start : start + args.batch_size]
        enc = tokenizer([r["prompt"] for r in batch], return_tensors="pt", padding=True, add_special_tokens=False).to(args.device)
        with torch.no_grad():
            gen = model.generate(
                **enc,
                max_new_tokens=args.max_new_tokens,
                do_sample=${decoding.temperature > 0 ? 'True' : 'False'},${decoding.temperature > 0 ? `\n                temperature=${decoding.temperature},\n                top_p=${decoding.topP},` : ''}
                eos_token_id=stop,
                pad_token_id=tokenizer.pad_token_id,
            )
        for row, ids in zip(batch, gen[:, enc["input_ids"].shape[1] :].tolist()):
            ended = [i for i, t in enumerate(ids) if t in stop]
            kept = ids[: ended[0]] if ended else ids
            out.write(json.dumps({"id": row["id"], "response": tokenizer.decode(kept), "tokens": len(kept), "finishReason": "stop" if ended else "length"}) + "\\n")
print(f"wrote {os.path.join(args.out, args.model + '.jsonl')} ({len(rows)} responses)")
`;
}

/** accelerate configs for one GPU, several GPUs of one machine, and several machines. */
export function accelerateConfigs(): Record<string, string> {
  const base = {
    compute_environment: 'LOCAL_MACHINE',
    debug: false,
    downcast_bf16: 'no',
    machine_rank: 0,
    main_training_function: 'main',
    // float32 as unitrace trains; 'bf16' is the usual choice on Ampere or newer GPUs (the configs set bf16: false: change both)
    mixed_precision: 'no',
    rdzv_backend: 'static',
    same_network: true,
    tpu_env: [],
    tpu_use_cluster: false,
    tpu_use_sudo: false,
    use_cpu: false,
  };
  return {
    'single-gpu.yaml': toYaml({ ...base, distributed_type: 'NO', num_machines: 1, num_processes: 1, gpu_ids: 'all' }),
    'multi-gpu.yaml': toYaml({ ...base, distributed_type: 'MULTI_GPU', num_machines: 1, '# set with --num_processes N': '', num_processes: 8, gpu_ids: 'all' }),
    'multi-node.yaml': toYaml({
      ...base,
      distributed_type: 'MULTI_GPU',
      '# per node: --machine_rank R --main_process_ip HOST --main_process_port 29500; --num_processes = GPUs in all': '',
      num_machines: 2,
      num_processes: 16,
      main_process_ip: '127.0.0.1',
      main_process_port: 29500,
      gpu_ids: 'all',
    }),
  };
}
