"""TRL's DPOTrainer evaluation of a unitrace adapter, for test/train/trl-reference.test.ts.

Opens the adapter with PEFT's AutoPeftModelForCausalLM (so its base_model_name_or_path must name a folder
transformers loads), then runs trl.DPOTrainer.evaluate on the preference pairs with the base model as the
reference (as unitrace's DPO: a fresh adapter's reference is the model under it), once per loss type, one
pair per batch. Prints {loss_type: {metric: value}} as JSON.

    /tmp/hfv/bin/python scripts/trl_dpo_eval.py ADAPTER_DIR PAIRS.jsonl --beta 0.1 --loss sigmoid ipo
"""
import argparse
import json
import tempfile

from datasets import Dataset
from peft import AutoPeftModelForCausalLM
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter")
    ap.add_argument("pairs")
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--loss", nargs="+", default=["sigmoid"])
    args = ap.parse_args()

    base = AutoPeftModelForCausalLM.from_pretrained(args.adapter).peft_config["default"].base_model_name_or_path
    tokenizer = AutoTokenizer.from_pretrained(base)
    rows = [json.loads(line) for line in open(args.pairs) if line.strip()]
    dataset = Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows])
    out = {"base_model_name_or_path": base}
    model = AutoPeftModelForCausalLM.from_pretrained(args.adapter)
    reference = AutoModelForCausalLM.from_pretrained(base)
    with tempfile.TemporaryDirectory() as tmp:
        config = DPOConfig(output_dir=tmp, beta=args.beta, loss_type=args.loss[:1], per_device_eval_batch_size=1, report_to=[], max_length=None, bf16=False, use_cpu=True)
        trainer = DPOTrainer(model=model, ref_model=reference, args=config, train_dataset=dataset, eval_dataset=dataset, processing_class=tokenizer)
        for loss in args.loss:
            trainer.loss_types = [loss]  # what DPOConfig.loss_type sets; one trainer, so the pairs are tokenised once
            out[loss] = {k.removeprefix("eval_"): v for k, v in trainer.evaluate().items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
