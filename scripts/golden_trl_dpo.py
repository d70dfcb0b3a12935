"""Goldens for unitrace's DPO objective from TRL's own loss code.

Runs trl.trainer.dpo_trainer.DPOTrainer._compute_loss (TRL 1.x) on fixed logits through a stand-in
model, for the sigmoid, ipo, hinge and robust losses, and writes the inputs with TRL's loss and metrics to
test/train/golden/trl-dpo.json. Conservative DPO (sigmoid with label smoothing) left TRL's `sigmoid` in
1.x; its value comes from the v0.x formula -(1-e) logsig(b h) - e logsig(-b h) computed here.

    /tmp/hfv/bin/python scripts/golden_trl_dpo.py
"""
import json
import sys
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
import trl
from trl.trainer.dpo_trainer import DPOTrainer

OUT = Path(__file__).resolve().parent.parent / "test" / "train" / "golden" / "trl-dpo.json"
PAIRS, SEQ, VOCAB = 3, 7, 11


def fixture():
    g = torch.Generator().manual_seed(14)
    logits = torch.randn(2 * PAIRS, SEQ, VOCAB, generator=g, dtype=torch.float64) * 2  # rows: chosen..., rejected...
    input_ids = torch.randint(0, VOCAB, (2 * PAIRS, SEQ), generator=g)
    # Prompt lengths and completion lengths differ per row (right padding after the completion).
    spans = [(2, 7), (3, 6), (1, 4), (2, 5), (3, 7), (1, 7)]
    completion_mask = torch.zeros(2 * PAIRS, SEQ, dtype=torch.long)
    attention_mask = torch.zeros(2 * PAIRS, SEQ, dtype=torch.long)
    for r, (start, end) in enumerate(spans):
        completion_mask[r, start:end] = 1
        attention_mask[r, :end] = 1
    ref_chosen = torch.tensor([-9.5, -14.0, -6.25], dtype=torch.float64)
    ref_rejected = torch.tensor([-11.0, -8.5, -13.75], dtype=torch.float64)
    return logits, input_ids, completion_mask, attention_mask, ref_chosen, ref_rejected


def trl_loss(kind, beta, smoothing, tensors):
    logits, input_ids, completion_mask, attention_mask, ref_chosen, ref_rejected = tensors
    trainer = DPOTrainer.__new__(DPOTrainer)  # only the attributes _compute_loss reads
    identity = lambda x: x
    trainer.__dict__.update(
        model=SimpleNamespace(training=False),
        accelerator=SimpleNamespace(device="cpu", gather_for_metrics=identity, gather=identity),
        aux_loss_enabled=False, ld_alpha=None, precompute_ref_logps=True, f_divergence_type="reverse_kl",
        loss_types=[kind], loss_weights=[1.0], beta=beta, label_smoothing=smoothing, use_weighting=False,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)}, _total_train_tokens=0, _tp_size=1,
    )
    model = lambda **kw: SimpleNamespace(logits=logits.clone())
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, completion_mask=completion_mask,
                  ref_chosen_logps=ref_chosen, ref_rejected_logps=ref_rejected)
    loss = DPOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)
    metrics = {k: v[-1] for k, v in trainer._metrics["eval"].items() if k.split("/")[0] in ("rewards", "logps", "logits")}
    return float(loss), metrics


def cdpo_loss(beta, smoothing, tensors):
    """TRL v0.x DPOTrainer.dpo_loss, loss_type 'sigmoid' with label_smoothing (conservative DPO)."""
    logits, input_ids, completion_mask, _, ref_chosen, ref_rejected = tensors
    logps = torch.gather(logits[:, :-1].log_softmax(-1), 2, input_ids[:, 1:, None])[..., 0]
    logps = (logps * completion_mask[:, 1:]).sum(1)
    chosen, rejected = logps.chunk(2)
    h = (chosen - ref_chosen) - (rejected - ref_rejected)
    per_pair = -F.logsigmoid(beta * h) * (1 - smoothing) - F.logsigmoid(-beta * h) * smoothing
    return float(per_pair.mean())


def main():
    tensors = fixture()
    cases = []
    for kind, beta, smoothing in [("sigmoid", 0.1, 0.0), ("sigmoid", 0.5, 0.0), ("ipo", 0.1, 0.0), ("ipo", 0.5, 0.0),
                                  ("hinge", 0.1, 0.0), ("hinge", 0.5, 0.0), ("robust", 0.1, 0.2), ("robust", 0.5, 0.1)]:
        loss, metrics = trl_loss(kind, beta, smoothing, tensors)
        cases.append({"loss": kind, "beta": beta, "labelSmoothing": smoothing, "expected": loss, "metrics": metrics, "by": "DPOTrainer._compute_loss"})
    for beta, smoothing in [(0.1, 0.2), (0.5, 0.1)]:
        _, metrics = trl_loss("sigmoid", beta, 0.0, tensors)  # rewards/logps/logits do not depend on smoothing
        cases.append({"loss": "sigmoid", "beta": beta, "labelSmoothing": smoothing, "expected": cdpo_loss(beta, smoothing, tensors), "metrics": metrics, "by": "cDPO formula (TRL v0.x)"})
    logits, input_ids, completion_mask, attention_mask, ref_chosen, ref_rejected = tensors
    out = {
        "generator": "scripts/golden_trl_dpo.py", "trl": trl.__version__, "torch": torch.__version__,
        "pairs": PAIRS, "seqLen": SEQ, "vocab": VOCAB,
        "logits": logits.flatten().tolist(), "inputIds": input_ids.flatten().tolist(), "completionMask": completion_mask.flatten().tolist(),
        "refChosen": ref_chosen.tolist(), "refRejected": ref_rejected.tolist(), "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
