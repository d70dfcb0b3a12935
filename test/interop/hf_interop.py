"""Helper of test/interop/hf.test.ts (runs in the Hugging Face venv; never imported by unitrace).

  python hf_interop.py JOB_JSON
with JOB_JSON {"logits": [BASE, VOCAB_MAP, IDS_JSON, UNITRACE_ADAPTER, PEFT_OUT, OUT_JSON],
               "configs": [EXPORT_DIR, OUT_JSON]}, one Python start for both (imports take long):
  logits   logits of BASE with a unitrace-written adapter (PEFT loads it), then with a PEFT-written
           random adapter saved to PEFT_OUT; both at the pruned model's ids (columns VOCAB_MAP), as JSON.
  configs  every stage YAML of an export parsed by TRL's own parser, the settings that matter, as JSON.
"""
import json
import sys


def logits(base, vocab_map, ids_json, unitrace_adapter, peft_out, out_json):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    columns = torch.tensor(json.load(open(vocab_map)))
    ids = torch.tensor([json.load(open(ids_json))])
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    with torch.no_grad():
        plain = model(ids).logits[0][:, columns]
    peft_model = PeftModel.from_pretrained(model, unitrace_adapter).eval()
    with torch.no_grad():
        with_unitrace = peft_model(ids).logits[0][:, columns]
    model = peft_model.unload()
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj", "o_proj"], use_rslora=True, init_lora_weights=False, task_type="CAUSAL_LM")
    fresh = get_peft_model(model, config).eval()
    with torch.no_grad():
        with_peft = fresh(ids).logits[0][:, columns]
    fresh.save_pretrained(peft_out)
    json.dump({"plain": plain.tolist(), "unitraceAdapter": with_unitrace.tolist(), "peftAdapter": with_peft.tolist()}, open(out_json, "w"))


def configs(export_dir, out_json):
    import os

    from trl.scripts import dpo, sft

    os.chdir(export_dir)
    out = {}
    for stage in ("sft-original", "sft-cot", "sft-unified", "dpo"):
        parser = (dpo if stage == "dpo" else sft).make_parser()
        script, train, model, data = parser.parse_args_and_config(["--config", f"{stage}.yaml"])
        out[stage] = {
            "model": model.model_name_or_path,
            "lr": train.learning_rate,
            "epochs": train.num_train_epochs,
            "warmup_steps": train.warmup_steps,
            "batch": train.per_device_train_batch_size,
            "accum": train.gradient_accumulation_steps,
            "max_length": train.max_length,
            "seed": train.seed,
            "max_grad_norm": train.max_grad_norm,
            "bf16": train.bf16,
            "lora": [model.use_peft, model.lora_r, model.lora_alpha, model.lora_dropout, sorted(model.lora_target_modules), model.use_rslora],
            "data": [d.data_files for d in data.datasets],
            "completion_only_loss": getattr(train, "completion_only_loss", None),
            "beta": getattr(train, "beta", None),
            "loss_type": getattr(train, "loss_type", None),
        }
    json.dump(out, open(out_json, "w"))


if __name__ == "__main__":
    job = json.load(open(sys.argv[1]))
    logits(*job["logits"])
    configs(*job["configs"])
